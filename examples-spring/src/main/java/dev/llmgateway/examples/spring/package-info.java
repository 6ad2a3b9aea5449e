/**
 * The example gateway hosted in Spring Boot 3 (Spring MVC) on {@code
 * llm-gateway-spring-boot-starter}: the same routes and host API as the one on the JDK's {@code
 * HttpServer} in {@code dev.llmgateway.examples.gateway}, served by a controller, configured by
 * properties.
 */
@NullMarked
package dev.llmgateway.examples.spring;

import org.jspecify.annotations.NullMarked;
