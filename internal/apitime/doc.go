// Package apitime holds the time arithmetic that follows from how the API
// server stores times.
package apitime
