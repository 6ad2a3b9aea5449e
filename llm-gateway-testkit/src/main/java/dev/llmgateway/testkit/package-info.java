/**
 * Internal, test-only fixtures the project's modules share in their tests: not part of the SDK and
 * not published. Nothing here knows the SDK's types, so every module's tests can depend on it.
 */
@NullMarked
package dev.llmgateway.testkit;

import org.jspecify.annotations.NullMarked;
