package main

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// chartSVG plots each strategy as one labelled point: IMS status calls per copy (x) against p95
// detection lag (y). Down and to the left is better on both counts. Hand-written SVG: no
// dependency, opens in any browser.
func chartSVG(res results) string {
	const w, h, left, right, top, bottom = 720.0, 460.0, 70.0, 30.0, 50.0, 60.0
	maxX, maxY := 1.0, 1.0
	for _, s := range res.Strategies {
		maxX, maxY = math.Max(maxX, s.StatusCallsPerCopy), math.Max(maxY, s.LagP95)
	}
	maxX, maxY = niceCeil(maxX*1.1), niceCeil(maxY*1.1)
	px := func(x float64) float64 { return left + (w-left-right)*x/maxX }
	py := func(y float64) float64 { return h - bottom - (h-top-bottom)*y/maxY }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif" font-size="12">`+"\n", w, h, w, h)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	// The title in two lines, so that it stays inside the picture whatever the run's parameters.
	fmt.Fprintf(&b, `<text class="title" x="%.0f" y="22" font-size="15" font-weight="bold">%s</text>`+"\n", left, chartTitle)
	fmt.Fprintf(&b, `<text class="title" x="%.0f" y="40">%s</text>`+"\n", left,
		html.EscapeString(fmt.Sprintf("%d copies each, scale %g, %s progress", res.Copies, res.Scale, res.Progress)))
	for i := 0; i <= 5; i++ {
		x, y := maxX*float64(i)/5, maxY*float64(i)/5
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", px(x), py(0), px(x), py(maxY))
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", px(0), py(y), px(maxX), py(y))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", px(x), py(0)+18, trimNum(x))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end">%s</text>`+"\n", px(0)-6, py(y)+4, trimNum(y))
	}
	fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black"/>`+"\n", px(0), py(0), px(maxX), py(0))
	fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black"/>`+"\n", px(0), py(0), px(0), py(maxY))
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">IMS status calls per copy (fewer is better)</text>`+"\n", (px(0)+px(maxX))/2, h-18)
	fmt.Fprintf(&b, `<text transform="translate(18 %.1f) rotate(-90)" text-anchor="middle">p95 lag from job end to workflow close, s of job time (lower is better)</text>`+"\n", (py(0)+py(maxY))/2)
	points := make([]point, len(res.Strategies))
	texts := make([]string, len(res.Strategies))
	for i, s := range res.Strategies {
		points[i] = point{px(s.StatusCallsPerCopy), py(s.LagP95)}
		texts[i] = fmt.Sprintf("%s (%.1f calls, %.1f s)", s.Strategy, s.StatusCallsPerCopy, s.LagP95)
	}
	area := labelBox{x0: 2, x1: w - 2, y0: top, y1: h - bottom}
	var placed []labelBox
	for i, s := range res.Strategies {
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="%g" fill="%s"/>`+"\n", points[i].x, points[i].y, pointRadius, strategyColor(s.Strategy))
	}
	for i, s := range res.Strategies {
		// The figures are dropped from a label that finds no free place with them.
		box, text := placeLabel(i, points, []string{texts[i], s.Strategy}, area, placed)
		placed = append(placed, box)
		anchor := "start"
		if box.leftOfPoint {
			anchor = "end"
		}
		if box.leader {
			// A label moved away from its point is tied to it, so it is not read as a neighbour's.
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/>`+"\n",
				points[i].x, points[i].y, box.anchorX, box.baseline-4, strategyColor(s.Strategy))
		}
		fmt.Fprintf(&b, `<text class="label" x="%.1f" y="%.1f" text-anchor="%s" fill="%s">%s</text>`+"\n",
			box.anchorX, box.baseline, anchor, strategyColor(s.Strategy), html.EscapeString(text))
	}
	b.WriteString("</svg>\n")
	return b.String()
}

// chartTitle is the chart's first line; the run's parameters are its second.
const chartTitle = "IMS status calls per copy vs p95 detection lag"

// pointRadius is a strategy's dot.
const pointRadius = 6.0

// point is a strategy's dot on the picture.
type point struct{ x, y float64 }

// labelBox is where a point's label went, so that later labels can avoid it.
type labelBox struct {
	x0, x1, y0, y1    float64
	anchorX, baseline float64
	leftOfPoint       bool
	leader            bool // drawn away from its point, with a line to it
}

// textWidth estimates the width of text in the 12 px sans-serif font, erring wide.
func textWidth(text string) float64 { return 6.5 * float64(len(text)) }

// overlaps says whether two boxes share any area.
func (a labelBox) overlaps(b labelBox) bool {
	return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1
}

// distance is how far p is from the box (0 inside it).
func (a labelBox) distance(p point) float64 {
	dx := math.Max(0, math.Max(a.x0-p.x, p.x-a.x1))
	dy := math.Max(0, math.Max(a.y0-p.y, p.y-a.y1))
	return math.Hypot(dx, dy)
}

// placeLabel puts point i's label beside it, right or left, level with it, just above or just
// below, and further up or down only when those are taken. A place is taken when it would leave
// area, cover any point or a label placed before, or lie nearer to another point than to its own
// (a label next to another strategy's point reads as that one's). texts are the label's forms,
// longest first: a shorter one is tried where the longer finds no place. A label that had to move
// away gets a leader line. When no place is free, the nearest that stays in area is used.
func placeLabel(i int, points []point, texts []string, area labelBox, placed []labelBox) (labelBox, string) {
	p := points[i]
	at := func(text string, left bool, baseline float64) labelBox {
		width := textWidth(text)
		box := labelBox{anchorX: p.x + pointRadius + 3, baseline: baseline, leftOfPoint: left}
		box.x0, box.x1 = box.anchorX, box.anchorX+width
		if left {
			box.anchorX = p.x - pointRadius - 3
			box.x0, box.x1 = box.anchorX-width, box.anchorX
		}
		box.y0, box.y1 = baseline-12, baseline+3
		box.leader = box.distance(p) > 12
		return box
	}
	free := func(box labelBox) bool {
		if box.x0 < area.x0 || box.x1 > area.x1 || box.y0 < area.y0-20 || box.y1 > area.y1+20 {
			return false
		}
		for _, q := range placed {
			if box.overlaps(q) {
				return false
			}
		}
		own := box.distance(p)
		for j, q := range points {
			dot := labelBox{x0: q.x - pointRadius - 2, x1: q.x + pointRadius + 2, y0: q.y - pointRadius - 2, y1: q.y + pointRadius + 2}
			if box.overlaps(dot) || (j != i && box.distance(q) <= own) {
				return false
			}
		}
		return true
	}
	// Level with the point, then clear of its dot above and below, then a line further each way.
	up, down := p.y-pointRadius-5, p.y+pointRadius+14
	baselines := []float64{p.y + 4, up, down}
	for k := 1; k <= 12; k++ {
		baselines = append(baselines, up-15*float64(k), down+15*float64(k))
	}
	for _, text := range texts {
		for _, baseline := range baselines {
			for _, left := range []bool{false, true} {
				if box := at(text, left, baseline); free(box) {
					return box, text
				}
			}
		}
	}
	short := texts[len(texts)-1]
	for _, baseline := range baselines {
		for _, left := range []bool{false, true} {
			if box := at(short, left, baseline); box.x0 >= area.x0 && box.x1 <= area.x1 {
				return box, short
			}
		}
	}
	return at(short, false, p.y+4), short
}

func strategyColor(s string) string {
	switch s {
	case strategyAdaptive:
		return "#1b7f3b"
	case strategyHeartbeat:
		return "#1f5fbf"
	case strategyTerraform:
		return "#c0392b"
	case strategyRetry:
		return "#8e44ad"
	}
	return "#d68910"
}

// niceCeil rounds up to 1, 2 or 5 times a power of ten, for round axis ticks.
func niceCeil(v float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func trimNum(v float64) string {
	s := fmt.Sprintf("%.1f", v)
	return strings.TrimSuffix(s, ".0")
}
