// Command manager runs Klaxon: the controllers, the Alertmanager receiver,
// metrics and health probes.
package main
