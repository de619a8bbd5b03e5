// The daemon's metrics backend: swift-metrics handlers kept in a Prometheus registry that the HTTP
// API serves on /metrics. Bootstrapped once, by `tusk controller` only (tests and the other commands
// keep swift-metrics' no-op backend).
import Metrics
import Prometheus

public enum TuskMetrics {
    /// Makes the registry, installs it as the process's MetricsSystem, and returns it. Call once,
    /// before any metric is created.
    public static func bootstrapPrometheus() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // Control rounds take milliseconds: buckets from 0.5 ms to 1 s.
        factory.durationHistogramBuckets["tusk_control_round_duration"] = [
            .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(20),
            .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
        ]
        MetricsSystem.bootstrap(factory)
        return registry
    }
}
