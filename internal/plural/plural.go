// Package plural picks the singular or plural form of a noun for a count.
package plural

// Of returns one when n is 1, else many: plural.Of(n, "event", "events").
func Of(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
