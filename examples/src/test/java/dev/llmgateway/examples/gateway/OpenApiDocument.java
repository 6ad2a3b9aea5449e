package dev.llmgateway.examples.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The example hosts' OpenAPI document as a structural checker of real answers (a hand-written
 * subset of JSON Schema over Jackson trees: {@code $ref}, {@code type}, {@code const}, {@code
 * enum}, {@code anyOf}, {@code properties}, {@code required}, {@code additionalProperties: false},
 * {@code items}; the SSE events by the {@code x-sse-events} extension). It records which
 * documented statuses and schema members the checked answers used, so that a test can ask for
 * what was documented and never seen. Not thread-safe: one per test.
 */
final class OpenApiDocument {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> METHODS = List.of("get", "post", "put", "delete", "patch");

  private final JsonNode doc;
  private final List<String> problems = new ArrayList<>();
  private final Set<String> seenStatuses = new TreeSet<>();
  private final Set<String> seenMembers = new TreeSet<>();

  private OpenApiDocument(JsonNode doc) {
    this.doc = doc;
  }

  static OpenApiDocument parse(String json) throws IOException {
    return new OpenApiDocument(JSON.readTree(json));
  }

  JsonNode tree() {
    return doc;
  }

  /** @return what did not match the document, one line each */
  List<String> problems() {
    return problems;
  }

  /**
   * Checks one real JSON answer.
   *
   * @param method the request's method
   * @param path the request's path (no query)
   * @param status the answer's status
   * @param body the answer's JSON body
   */
  void checkJson(String method, String path, int status, String body) throws IOException {
    JsonNode response = response(method, path, status);
    if (response == null) {
      return;
    }
    JsonNode schema = response.path("content").path("application/json").path("schema");
    if (schema.isMissingNode()) {
      problems.add(method + " " + path + " " + status + ": no application/json answer documented");
      return;
    }
    validate(schema, responseLocation(method, path, status), JSON.readTree(body), method + " " + path + " " + status,
        problems, seenMembers);
  }

  /**
   * Checks one real event stream: each event's {@code data} against the schema of its name.
   *
   * @param events each event's name and data, in order
   */
  void checkEvents(String method, String path, int status, List<Map.Entry<String, String>> events) throws IOException {
    JsonNode response = response(method, path, status);
    if (response == null) {
      return;
    }
    JsonNode byName = response.path("x-sse-events");
    for (Map.Entry<String, String> event : events) {
      JsonNode schema = byName.get(event.getKey());
      String at = method + " " + path + " event " + event.getKey();
      if (schema == null) {
        problems.add(at + ": undocumented event");
      } else {
        validate(schema, responseLocation(method, path, status) + "/x-sse-events/" + event.getKey(),
            JSON.readTree(event.getValue()), at, problems, seenMembers);
      }
    }
  }

  /** @return every documented {@code METHOD template status} no checked answer had */
  Set<String> unseenStatuses() {
    Set<String> all = new TreeSet<>();
    eachOperation((template, method, op) -> op.path("responses").fieldNames()
        .forEachRemaining(status -> all.add(method.toUpperCase() + " " + template + " " + status)));
    all.removeAll(seenStatuses);
    return all;
  }

  /** @return every documented schema member (property or {@code anyOf} branch) no checked answer had */
  Set<String> unseenMembers() {
    Set<String> all = new TreeSet<>();
    Set<String> refs = new HashSet<>();
    eachOperation((template, method, op) -> op.path("responses").fields().forEachRemaining(e -> {
      JsonNode response = resolve(e.getValue());
      String loc = location(method, template, e.getKey());
      JsonNode schema = response.path("content").path("application/json").path("schema");
      if (!schema.isMissingNode()) {
        collect(schema, loc, all, refs);
      }
      response.path("x-sse-events").fields()
          .forEachRemaining(event -> collect(event.getValue(), loc + "/x-sse-events/" + event.getKey(), all, refs));
    }));
    all.removeAll(seenMembers);
    return all;
  }

  private interface OperationVisitor {
    void visit(String template, String method, JsonNode operation);
  }

  private void eachOperation(OperationVisitor visitor) {
    doc.path("paths").fields().forEachRemaining(path -> {
      for (String method : METHODS) {
        JsonNode op = path.getValue().get(method);
        if (op != null) {
          visitor.visit(path.getKey(), method, op);
        }
      }
    });
  }

  private JsonNode response(String method, String path, int status) {
    String template = template(path);
    String what = method + " " + path + " " + status;
    if (template == null) {
      problems.add(what + ": undocumented path");
      return null;
    }
    JsonNode op = doc.path("paths").path(template).get(method.toLowerCase());
    if (op == null) {
      problems.add(what + ": undocumented method");
      return null;
    }
    JsonNode response = op.path("responses").get(Integer.toString(status));
    if (response == null) {
      problems.add(what + ": undocumented status");
      return null;
    }
    seenStatuses.add(method.toUpperCase() + " " + template + " " + status);
    return resolve(response);
  }

  private String responseLocation(String method, String path, int status) {
    return location(method, template(path), Integer.toString(status));
  }

  private static String location(String method, String template, String status) {
    return method.toUpperCase() + " " + template + " " + status;
  }

  private String template(String path) {
    for (Iterator<String> it = doc.path("paths").fieldNames(); it.hasNext(); ) {
      String template = it.next();
      String regex = Pattern.quote(template).replaceAll("\\{[^}]+}", "\\\\E[^/]+\\\\Q");
      if (path.matches(regex)) {
        return template;
      }
    }
    return null;
  }

  private JsonNode resolve(JsonNode node) {
    JsonNode at = node;
    while (at.has("$ref")) {
      at = doc.at(at.get("$ref").asText().substring(1));
    }
    return at;
  }

  private boolean validate(JsonNode schema, String loc, JsonNode value, String at, List<String> out, Set<String> seen) {
    if (schema.has("$ref")) {
      String ref = schema.get("$ref").asText();
      return validate(resolve(schema), ref, value, at, out, seen);
    }
    int before = out.size();
    if (schema.has("const") && !schema.get("const").equals(value)) {
      out.add(at + ": " + value + " is not " + schema.get("const"));
    }
    if (schema.has("enum")) {
      boolean listed = false;
      for (JsonNode e : schema.get("enum")) {
        listed |= e.equals(value);
      }
      if (!listed) {
        out.add(at + ": " + value + " is not one of " + schema.get("enum"));
      }
    }
    if (schema.has("type")) {
      JsonNode type = schema.get("type");
      boolean matches = false;
      for (JsonNode t : type.isArray() ? type : List.of(type)) {
        matches |= hasType(t.asText(), value);
      }
      if (!matches) {
        out.add(at + ": " + value.getNodeType() + " is not " + type);
        return false;
      }
    }
    if (schema.has("anyOf")) {
      boolean matched = false;
      for (int i = 0; i < schema.get("anyOf").size() && !matched; i++) {
        List<String> branchProblems = new ArrayList<>();
        Set<String> branchSeen = new HashSet<>();
        String branch = loc + "/anyOf/" + i;
        if (validate(schema.get("anyOf").get(i), branch, value, at, branchProblems, branchSeen)) {
          matched = true;
          seen.add(branch);
          seen.addAll(branchSeen);
        }
      }
      if (!matched) {
        out.add(at + ": " + value + " matches no anyOf branch");
      }
    }
    if (value.isObject()) {
      for (JsonNode required : schema.path("required")) {
        if (!value.has(required.asText())) {
          out.add(at + ": the documented required member " + required.asText() + " is missing");
        }
      }
      boolean closed = schema.path("additionalProperties").isBoolean() && !schema.get("additionalProperties").asBoolean();
      value.fields().forEachRemaining(member -> {
        JsonNode property = schema.path("properties").get(member.getKey());
        if (property == null) {
          if (closed) {
            out.add(at + ": undocumented member " + member.getKey());
          }
        } else {
          String memberLoc = loc + "/properties/" + member.getKey();
          seen.add(memberLoc);
          validate(property, memberLoc, member.getValue(), at + "." + member.getKey(), out, seen);
        }
      });
    }
    if (value.isArray() && schema.has("items")) {
      int i = 0;
      for (JsonNode item : value) {
        validate(schema.get("items"), loc + "/items", item, at + "[" + i++ + "]", out, seen);
      }
    }
    return out.size() == before;
  }

  private static boolean hasType(String type, JsonNode value) {
    return switch (type) {
      case "null" -> value.isNull();
      case "string" -> value.isTextual();
      case "integer" -> value.isIntegralNumber();
      case "number" -> value.isNumber();
      case "boolean" -> value.isBoolean();
      case "object" -> value.isObject();
      case "array" -> value.isArray();
      default -> false;
    };
  }

  private void collect(JsonNode schema, String loc, Set<String> out, Set<String> refs) {
    if (schema.has("$ref")) {
      String ref = schema.get("$ref").asText();
      if (refs.add(ref)) {
        collect(resolve(schema), ref, out, refs);
      }
      return;
    }
    for (int i = 0; i < schema.path("anyOf").size(); i++) {
      out.add(loc + "/anyOf/" + i);
      collect(schema.get("anyOf").get(i), loc + "/anyOf/" + i, out, refs);
    }
    schema.path("properties").fields().forEachRemaining(p -> {
      out.add(loc + "/properties/" + p.getKey());
      collect(p.getValue(), loc + "/properties/" + p.getKey(), out, refs);
    });
    if (schema.has("items")) {
      collect(schema.get("items"), loc + "/items", out, refs);
    }
  }
}
