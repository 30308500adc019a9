package main

import (
	"encoding/xml"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The chart is valid SVG with one point per strategy, and labels of points close together do
// not overlap.
func TestChartPlotsEveryStrategyReadably(t *testing.T) {
	res := results{Copies: 10, Scale: 20, Progress: "realistic", Strategies: []strategyResult{
		{Strategy: strategyAdaptive, StatusCallsPerCopy: 15, LagP95: 15.1},
		{Strategy: strategyTerraform, StatusCallsPerCopy: 20.7, LagP95: 17.3},
		{Strategy: strategyHeartbeat, StatusCallsPerCopy: 41.5, LagP95: 16.3},
	}}
	svg := chartSVG(res)

	dec := xml.NewDecoder(strings.NewReader(svg))
	circles := 0
	var labels []labelBox
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		require.NoError(t, err, "the chart must be well-formed XML")
		if el, ok := tok.(xml.StartElement); ok && el.Name.Local == "circle" {
			circles++
		}
	}
	assert.Equal(t, 3, circles)
	for _, s := range res.Strategies {
		assert.Contains(t, svg, s.Strategy)
	}

	for _, s := range res.Strategies {
		text := s.Strategy + " (...)"
		box := placeLabel(100+s.StatusCallsPerCopy, 300-s.LagP95, text, 700, labels)
		for _, p := range labels {
			overlap := box.x0 < p.x1 && p.x0 < box.x1 && box.y0 < p.y1 && p.y0 < box.y1
			assert.False(t, overlap, "labels of nearby points overlap")
		}
		labels = append(labels, box)
	}
	edge := placeLabel(690, 100, "heartbeat-5s (41.5 calls, 16.3 s)", 700, nil)
	assert.True(t, edge.leftOfPoint, "a label that would leave the plot goes left of its point")
	assert.LessOrEqual(t, edge.x1, 700.0)
}
