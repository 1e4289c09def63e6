// Package clustertest holds the tests of the production topology (`make cluster-test`, run
// by CI): they need the Temporal server, its SQL tool and the UI server built by `make
// cluster-tools`, Debian's PostgreSQL and Chromium, so they carry the build tag `cluster` and
// stay out of `make test`.
package clustertest
