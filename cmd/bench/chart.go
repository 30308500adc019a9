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
	fmt.Fprintf(&b, `<text x="%.0f" y="24" font-size="15" font-weight="bold">IMS status calls per copy vs p95 detection lag (%d copies each, scale %g, %s progress)</text>`+"\n",
		left, res.Copies, res.Scale, html.EscapeString(res.Progress))
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
	var placed []labelBox
	for _, s := range res.Strategies {
		x, y := px(s.StatusCallsPerCopy), py(s.LagP95)
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="6" fill="%s"/>`+"\n", x, y, strategyColor(s.Strategy))
		text := fmt.Sprintf("%s (%.1f calls, %.1f s)", s.Strategy, s.StatusCallsPerCopy, s.LagP95)
		box := placeLabel(x, y, text, w-right, placed)
		placed = append(placed, box)
		anchor := "start"
		if box.leftOfPoint {
			anchor = "end"
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="%s">%s</text>`+"\n", box.anchorX, box.baseline, anchor, html.EscapeString(text))
	}
	b.WriteString("</svg>\n")
	return b.String()
}

// labelBox is where a point's label went, so that later labels can avoid it.
type labelBox struct {
	x0, x1, y0, y1    float64
	anchorX, baseline float64
	leftOfPoint       bool
}

// placeLabel puts a label to the right of its point (to the left when it would leave the plot)
// and moves it down until it overlaps no label placed before. Widths are estimated at 6.5 px
// per character of the 12 px sans-serif font.
func placeLabel(x, y float64, text string, rightEdge float64, placed []labelBox) labelBox {
	width := 6.5 * float64(len(text))
	box := labelBox{anchorX: x + 9, baseline: y - 7}
	if x+9+width > rightEdge {
		box.anchorX, box.leftOfPoint = x-9, true
	}
	for {
		box.x0, box.x1 = box.anchorX, box.anchorX+width
		if box.leftOfPoint {
			box.x0, box.x1 = box.anchorX-width, box.anchorX
		}
		box.y0, box.y1 = box.baseline-12, box.baseline+3
		clash := false
		for _, p := range placed {
			if box.x0 < p.x1 && p.x0 < box.x1 && box.y0 < p.y1 && p.y0 < box.y1 {
				clash = true
				break
			}
		}
		if !clash {
			return box
		}
		box.baseline += 15
	}
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
