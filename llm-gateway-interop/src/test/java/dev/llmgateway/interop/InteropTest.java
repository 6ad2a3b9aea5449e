package dev.llmgateway.interop;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/** A test class run against the reference FastAPI service; its constructor receives the {@link ReferenceService}. */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(ReferenceServiceExtension.class)
@Tag("interop")
@interface InteropTest {}
