// Package plugin is the `kubectl klaxon` plugin: the cobra commands that
// declare incidents, move them along the lifecycle, post stakeholder
// updates and read on-call schedules, timelines, status and reports.
//
// Every write is one request that the API server checks: a lifecycle move
// is one merge patch of spec.state, which the CRD's CEL rules accept or
// refuse and the klaxon-incident-actor admission policy attributes; a
// stakeholder update is one JSON patch that appends to spec.updates. The
// plugin never decides who made a move: the API server does.
//
// The figures of `report` and the rows of `status` come from pure functions
// (BuildReport, StatusRows) that take incidents and the time and have no
// client, so they are tested on their own.
package plugin
