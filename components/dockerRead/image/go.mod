module github.com/swarm-ha/docker-read

go 1.26
