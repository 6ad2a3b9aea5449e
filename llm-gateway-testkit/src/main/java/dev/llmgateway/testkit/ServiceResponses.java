package dev.llmgateway.testkit;

import mockwebserver3.MockResponse;

/**
 * MockWebServer answers of the LLM service's JSON endpoints (see the wire contract): a chat answer,
 * a healthy {@code GET /health}, and any status with a JSON body. Shared by the starter's tests on
 * each Spring Boot generation.
 */
public final class ServiceResponses {
  /** A minimal chat answer ({@code POST .../chat}): intent {@code search}, answer {@code hi}. */
  public static final String CHAT_JSON = "{\"session_id\":\"sess_8f14e45f\",\"message_id\":\"msg_01\","
      + "\"intent\":\"search\",\"answer\":\"hi\",\"candidates\":[],\"actions\":[]}";
  /** A healthy service's {@code GET /health} body. */
  public static final String HEALTH_OK_JSON = "{\"status\":\"ok\"}";

  private ServiceResponses() {}

  /**
   * An answer of {@code code} with a JSON body.
   *
   * @param code the HTTP status
   * @param body the JSON body
   * @return the answer
   */
  public static MockResponse json(int code, String body) {
    return new MockResponse.Builder().code(code).setHeader("Content-Type", "application/json").body(body).build();
  }

  /**
   * {@link #CHAT_JSON} with 200.
   *
   * @return the answer
   */
  public static MockResponse chatOk() {
    return json(200, CHAT_JSON);
  }

  /**
   * {@link #HEALTH_OK_JSON} with 200.
   *
   * @return the answer
   */
  public static MockResponse healthOk() {
    return json(200, HEALTH_OK_JSON);
  }
}
