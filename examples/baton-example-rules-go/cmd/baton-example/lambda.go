//go:build baton_lambda_support

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
)

// lambdaMain serves the AWS Lambda custom runtime API: fetch the next
// invocation, run a sync, post the result. It only returns on a runtime error.
func lambdaMain(stderr io.Writer) int {
	api := os.Getenv("AWS_LAMBDA_RUNTIME_API")
	if api == "" {
		fmt.Fprintln(stderr, "baton-example lambda: AWS_LAMBDA_RUNTIME_API is not set; run this inside AWS Lambda")
		return 1
	}
	base := "http://" + api + "/2018-06-01/runtime/invocation/"
	for {
		resp, err := http.Get(base + "next")
		if err != nil {
			fmt.Fprintf(stderr, "baton-example lambda: next invocation: %v\n", err)
			return 1
		}
		id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()

		var out bytes.Buffer
		if code := sync(nil, &out, stderr); code != 0 {
			body, _ := json.Marshal(map[string]string{"errorMessage": "sync failed", "errorType": "SyncError"})
			post(base+id+"/error", body, stderr)
			continue
		}
		post(base+id+"/response", out.Bytes(), stderr)
	}
}

func post(url string, body []byte, stderr io.Writer) {
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		fmt.Fprintf(stderr, "baton-example lambda: post %s: %v\n", url, err)
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}
