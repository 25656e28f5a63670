// Prometheus's text exposition format, the little of it the exporter writes: gauges with labels.
package main

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

const contentType = "text/plain; version=0.0.4; charset=utf-8"

// Sample is one value of a gauge, with its labels.
type Sample struct {
	Labels map[string]string
	Value  float64
}

// Gauges holds gauges by name, each with its help text and samples, written in name order.
type Gauges struct {
	help    map[string]string
	samples map[string][]Sample
}

// NewGauges returns an empty set.
func NewGauges() *Gauges {
	return &Gauges{help: map[string]string{}, samples: map[string][]Sample{}}
}

// Add records a sample of the gauge name.
func (g *Gauges) Add(name, help string, value float64, labels map[string]string) {
	if _, ok := g.help[name]; !ok {
		g.help[name] = help
	}
	g.samples[name] = append(g.samples[name], Sample{Labels: labels, Value: value})
}

// Bytes renders the gauges in the text format.
func (g *Gauges) Bytes() []byte {
	var b bytes.Buffer
	names := make([]string, 0, len(g.samples))
	for name := range g.samples {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n", name, g.help[name], name)
		for _, s := range g.samples[name] {
			fmt.Fprintf(&b, "%s%s %s\n", name, labelText(s.Labels), strconv.FormatFloat(s.Value, 'g', -1, 64))
		}
	}
	return b.Bytes()
}

func labelText(labels map[string]string) string {
	if len(labels) == 0 {
		return ""
	}
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%q", k, labels[k]))
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
