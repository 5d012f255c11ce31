// Package calendar turns on-call shifts into iCalendar feeds (RFC 5545):
// the window a feed covers, one event per person's shift, and the text a
// calendar client subscribes to. It reads no API: the receiver hands it
// compiled schedules.
package calendar
