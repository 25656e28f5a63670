module github.com/swarm-ha/exporter

go 1.26
