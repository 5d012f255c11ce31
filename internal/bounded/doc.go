// Package bounded cuts strings to the limits the API server enforces. One
// string over its limit makes the API server refuse a whole status patch
// (or Event), so every string the operator writes passes through here.
package bounded
