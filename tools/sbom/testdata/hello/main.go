// Command hello is a tiny Go program whose build information the sbom tests
// read: main module example.com/hello, one dependency.
package main

import (
	"fmt"

	"github.com/google/uuid"
)

var version = "dev"

func main() {
	fmt.Println(version, uuid.NewSHA1(uuid.NameSpaceURL, []byte("relkit")))
}
