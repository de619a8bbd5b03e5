// Target FlowAnalytics.
