package app

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/yongzhou-news/syndicate/metrics"
)

// outboxGauges hands the outbox gauges the store and this process's relay totals.
func (a *App) outboxGauges() []prometheus.Collector {
	return metrics.OutboxCollectors(a.Store, func() metrics.RelayCounts {
		s := a.Relay.Stats()
		return metrics.RelayCounts{Published: s.Published, Duplicates: s.Duplicates, Failures: s.Failures,
			Refused: s.Refused, Conflicts: s.Conflicts, DeadLettered: s.DeadLettered}
	})
}
