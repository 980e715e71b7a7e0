package registry

import "strings"

// closest returns the candidate nearest to s by dist, when it is near
// enough to be what was meant, or "". Ties go to the first in sorted order.
func closest(s string, candidates []string, dist func(a, b string) (d int, near bool)) string {
	best, bestD := "", -1
	for _, c := range candidates {
		d, near := dist(s, c)
		if near && (bestD < 0 || d < bestD || d == bestD && c < best) {
			best, bestD = c, d
		}
	}
	return best
}

// nameDistance compares two names, such as sink names, ignoring case.
func nameDistance(a, b string) (int, bool) {
	a, b = strings.ToUpper(a), strings.ToUpper(b)
	d := editDistance(a, b, len(b))
	return d, nearEnough(a, b, d)
}

// varDistance compares a variable name with a known one, ignoring case;
// a wrong or missing prefix (MULTITRACK_API_KEY, MULTITRACK_POSTHOG_API_KEY
// for POSTHOG_API_KEY) costs 1.
func varDistance(name, known string) (int, bool) {
	name, known = strings.ToUpper(name), strings.ToUpper(known)
	short, knownShort := stripPrefix(name), stripPrefix(known)
	best := -1
	for _, p := range [][2]string{{name, known}, {short, knownShort}, {short, known}, {name, knownShort}} {
		d := editDistance(p[0], p[1], len(knownShort)+1)
		if p != [2]string{name, known} {
			d++
		}
		if best < 0 || d < best {
			best = d
		}
	}
	return best, nearEnough(short, knownShort, best)
}

func stripPrefix(s string) string {
	for _, p := range []string{envPrefix, posthogPrefix} {
		if rest, ok := strings.CutPrefix(s, p); ok {
			return rest
		}
	}
	return s
}

// nearEnough says whether s, at distance d from known, was probably meant
// as known: a slip or two, or a longer miss that keeps its first letters
// (SAMPLING for SAMPLE, QUEUE for QUEUE_SIZE).
func nearEnough(s, known string, d int) bool {
	if d <= max(2, len(known)/4) {
		return true
	}
	common := 0
	for common < len(s) && common < len(known) && s[common] == known[common] {
		common++
	}
	return common >= 4 && d <= len(known)/2
}

// editDistance is the optimal-string-alignment distance between a and b,
// in bytes: each insertion, deletion, substitution, or swap of neighbours
// costs 1. It returns a number above limit as soon as the distance must
// exceed limit, so that a long name costs little.
func editDistance(a, b string, limit int) int {
	if diff := len(a) - len(b); diff > limit || -diff > limit {
		return limit + 1
	}
	// Three rows: the one before last (for swaps), the last and this one.
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	prevMin := 0
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d = min(d, prev2[j-2]+1)
			}
			cur[j] = d
			rowMin = min(rowMin, d)
		}
		// A path to the end crosses this row or, by a swap, the last one.
		if rowMin > limit && prevMin > limit {
			return limit + 1
		}
		prevMin = rowMin
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
