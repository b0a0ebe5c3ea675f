// Package msitemplates embeds relkit's WiX templates so the relkit binary
// can build an installer without a checkout: default.wxs (a per-machine CLI
// install on PATH) and service.wxs (the same plus a Windows service).
package msitemplates

import "embed"

// FS holds default.wxs and service.wxs.
//
//go:embed *.wxs
var FS embed.FS
