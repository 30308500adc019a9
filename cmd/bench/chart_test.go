package main

import (
	"encoding/xml"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// drawn is what a chart shows, read back from its SVG as a viewer would see it.
type drawn struct {
	width  float64
	titles []labelBox // estimated extent of each title line
	points []point
	labels []labelBox // in the order of the points
	texts  []string
}

func readChart(t *testing.T, svg string) drawn {
	t.Helper()
	var d drawn
	dec := xml.NewDecoder(strings.NewReader(svg))
	attr := func(el xml.StartElement, name string) string {
		for _, a := range el.Attr {
			if a.Name.Local == name {
				return a.Value
			}
		}
		return ""
	}
	num := func(el xml.StartElement, name string) float64 {
		v, err := strconv.ParseFloat(attr(el, name), 64)
		require.NoError(t, err, "%s of %s", name, el.Name.Local)
		return v
	}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		require.NoError(t, err, "the chart must be well-formed XML")
		el, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch {
		case el.Name.Local == "svg":
			d.width = num(el, "width")
		case el.Name.Local == "circle":
			d.points = append(d.points, point{num(el, "cx"), num(el, "cy")})
		case el.Name.Local == "text" && attr(el, "class") != "":
			var text string
			require.NoError(t, dec.DecodeElement(&text, &el))
			x, y := num(el, "x"), num(el, "y")
			perChar, size := 6.5, 12.0
			if attr(el, "font-weight") == "bold" {
				perChar, size = 9.0, 15.0 // 15 px bold, erring wide
			}
			box := labelBox{x0: x, x1: x + perChar*float64(len(text)), y0: y - size, y1: y + 3}
			if attr(el, "text-anchor") == "end" {
				box.x0, box.x1 = x-perChar*float64(len(text)), x
			}
			if attr(el, "class") == "title" {
				d.titles = append(d.titles, box)
			} else {
				d.labels, d.texts = append(d.labels, box), append(d.texts, text)
			}
		}
	}
	return d
}

// The chart, looked at as a picture: its title inside it, one point per strategy, and each label
// inside it, over no point or other label, and nearer its own point than any other (a label next
// to another strategy's point reads as that one's).
func TestChartPlotsEveryStrategyReadably(t *testing.T) {
	cases := map[string][]strategyResult{
		"spread": {
			{Strategy: strategyAdaptive, StatusCallsPerCopy: 15, LagP95: 15.1},
			{Strategy: strategyTerraform, StatusCallsPerCopy: 20.7, LagP95: 17.3},
			{Strategy: strategyHeartbeat, StatusCallsPerCopy: 41.5, LagP95: 16.3},
		},
		"a cluster": { // terraform-10s's label used to sit under heartbeat-5s's point
			{Strategy: strategyAdaptive, StatusCallsPerCopy: 7.9, LagP95: 9.2},
			{Strategy: strategyHeartbeat, StatusCallsPerCopy: 13.0, LagP95: 8.4},
			{Strategy: strategyTerraform, StatusCallsPerCopy: 12.4, LagP95: 9.9},
			{Strategy: strategyRetry, StatusCallsPerCopy: 5.1, LagP95: 31.2},
			{Strategy: strategyTimer, StatusCallsPerCopy: 12.9, LagP95: 11.4},
		},
		"a cluster, one apart": { // adaptive's label used to run over terraform-10s's point
			{Strategy: strategyAdaptive, StatusCallsPerCopy: 7.9, LagP95: 9.2},
			{Strategy: strategyHeartbeat, StatusCallsPerCopy: 23.6, LagP95: 6.1},
			{Strategy: strategyTerraform, StatusCallsPerCopy: 12.4, LagP95: 9.9},
			{Strategy: strategyRetry, StatusCallsPerCopy: 5.1, LagP95: 31.2},
			{Strategy: strategyTimer, StatusCallsPerCopy: 12.9, LagP95: 11.4},
		},
		"at the right edge": {
			{Strategy: strategyAdaptive, StatusCallsPerCopy: 7.9, LagP95: 9.2},
			{Strategy: strategyHeartbeat, StatusCallsPerCopy: 98.6, LagP95: 6.1},
			{Strategy: strategyTerraform, StatusCallsPerCopy: 12.4, LagP95: 9.9},
			{Strategy: strategyRetry, StatusCallsPerCopy: 5.1, LagP95: 31.2},
			{Strategy: strategyTimer, StatusCallsPerCopy: 12.9, LagP95: 11.4},
		},
	}
	for name, strategies := range cases {
		t.Run(name, func(t *testing.T) {
			res := results{Copies: 12000, Scale: 0.25, Progress: "realistic", Strategies: strategies}
			d := readChart(t, chartSVG(res))

			require.Len(t, d.titles, 2)
			for _, title := range d.titles {
				assert.GreaterOrEqual(t, title.x0, 0.0)
				assert.LessOrEqual(t, title.x1, d.width, "the title stays inside the picture")
			}
			require.Len(t, d.points, len(strategies))
			require.Len(t, d.labels, len(strategies))
			for i, s := range strategies {
				label := d.labels[i]
				assert.True(t, strings.HasPrefix(d.texts[i], s.Strategy), d.texts[i])
				assert.GreaterOrEqual(t, label.x0, 0.0, s.Strategy)
				assert.LessOrEqual(t, label.x1, d.width, s.Strategy)
				for j, other := range d.labels {
					assert.False(t, j != i && label.overlaps(other), "%s's label overlaps %s's", s.Strategy, strategies[j].Strategy)
				}
				own := label.distance(d.points[i])
				for j, p := range d.points {
					dot := labelBox{x0: p.x - pointRadius, x1: p.x + pointRadius, y0: p.y - pointRadius, y1: p.y + pointRadius}
					assert.False(t, label.overlaps(dot), "%s's label covers %s's point", s.Strategy, strategies[j].Strategy)
					if j != i {
						assert.Less(t, own, label.distance(p), "%s's label is nearer %s's point", s.Strategy, strategies[j].Strategy)
					}
				}
			}
		})
	}
}
