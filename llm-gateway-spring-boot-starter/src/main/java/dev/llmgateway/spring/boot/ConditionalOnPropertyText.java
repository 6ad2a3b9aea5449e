package dev.llmgateway.spring.boot;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.Map;
import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.context.annotation.Conditional;
import org.springframework.core.type.AnnotatedTypeMetadata;

/**
 * Matches when the property has a value that is not blank. Unlike {@code @ConditionalOnProperty},
 * an empty value does not match, so {@code llm-gateway.redis.url=${LLM_REDIS_URL:}} turns Redis off
 * while the variable is unset (the properties read an empty value as unset as well).
 */
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD})
@Documented
@Conditional(ConditionalOnPropertyText.OnPropertyText.class)
@interface ConditionalOnPropertyText {
  /**
   * The property, in its canonical form ({@code llm-gateway.redis.url}).
   *
   * @return the name
   */
  String value();

  /** The condition. */
  final class OnPropertyText extends SpringBootCondition {
    @Override
    public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
      Map<String, Object> attributes = metadata.getAnnotationAttributes(ConditionalOnPropertyText.class.getName());
      String name = String.valueOf(attributes == null ? null : attributes.get("value"));
      String value = context.getEnvironment().getProperty(name);
      return value != null && !value.isBlank()
          ? ConditionOutcome.match(name + " is set")
          : ConditionOutcome.noMatch(name + " is unset or blank");
    }
  }
}
