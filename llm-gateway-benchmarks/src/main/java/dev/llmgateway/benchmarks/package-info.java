/** JMH benchmarks of the SDK's hot paths, run by hand (see docs/PERFORMANCE.md). */
@NullMarked
package dev.llmgateway.benchmarks;

import org.jspecify.annotations.NullMarked;
