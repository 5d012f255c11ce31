// Package pagerduty reads what senders of the PagerDuty Events API v2 post
// (https://developer.pagerduty.com/docs/events-api-v2/overview/): alert
// events (POST /v2/enqueue, event_action trigger, acknowledge or resolve)
// and change events (POST /v2/change/enqueue). It checks them as PagerDuty
// does, maps an alert event onto the alertmapping.Notification every intake
// is decided by, a change event onto the note it leaves on a route's open
// incidents, and builds the answer bodies in PagerDuty's shapes, so a
// sender's own handling of PagerDuty's answers works unchanged.
//
// It holds no Kubernetes client: the receiver authenticates the event's
// routing_key against the route's token and writes the decision.
package pagerduty
