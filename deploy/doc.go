// Package deploy checks the deployment files at the module's root (docker-compose.yml,
// Dockerfile) against the code, without a Docker engine: the Compose file is loaded with the real
// Compose loader (github.com/compose-spec/compose-go/v2) and compared with what the programs read
// and listen on. It also checks that the code's comments cite documents inside the repository:
// every docs/ims-api.md section a comment names is a heading there. It has tests only.
package deploy
