package msi

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/template"
	"text/template/parse"
)

// legacyUpgradeCode is the placeholder the previous pipeline replaced in its
// default template; custom templates copied from it still carry it.
const legacyUpgradeCode = "${UPGRADE_CODE}"

// Render substitutes vars into the WiX template src. name labels errors.
// Every variable used must be one of VarNames: an unknown one is an error
// naming it with its line and listing the valid names.
func Render(name string, src []byte, vars Vars) ([]byte, error) {
	values := vars.values()
	text := strings.ReplaceAll(string(src), legacyUpgradeCode, values["UpgradeCode"])
	t, err := template.New(name).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("template %w", err)
	}
	var unknown []string
	for _, tr := range t.Templates() {
		walkFields(tr.Tree.Root, func(n parse.Node, field string) {
			if _, ok := values[field]; !ok {
				loc, _ := tr.Tree.ErrorContext(n)
				unknown = append(unknown, fmt.Sprintf(".%s (%s)", field, loc))
			}
		})
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("template %s: unknown variable %s; valid variables: .%s",
			name, strings.Join(unknown, ", "), strings.Join(VarNames(), ", ."))
	}
	escaped := make(map[string]string, len(values))
	for k, v := range values {
		var b strings.Builder
		xml.EscapeText(&b, []byte(v))
		escaped[k] = b.String()
	}
	var out bytes.Buffer
	if err := t.Execute(&out, escaped); err != nil {
		return nil, fmt.Errorf("template %w", err)
	}
	return out.Bytes(), nil
}

// walkFields calls fn for each top-level variable reference (.Name or
// $.Name). Bodies of range and with are skipped: their dot is another value.
func walkFields(n parse.Node, fn func(parse.Node, string)) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			walkFields(c, fn)
		}
	case *parse.ActionNode:
		walkFields(n.Pipe, fn)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, c := range n.Cmds {
			walkFields(c, fn)
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			walkFields(a, fn)
		}
	case *parse.FieldNode:
		fn(n, n.Ident[0])
	case *parse.VariableNode:
		if len(n.Ident) > 1 && n.Ident[0] == "$" {
			fn(n, n.Ident[1])
		}
	case *parse.ChainNode:
		walkFields(n.Node, fn)
	case *parse.IfNode:
		walkFields(n.Pipe, fn)
		walkFields(n.List, fn)
		walkFields(n.ElseList, fn)
	case *parse.RangeNode:
		walkFields(n.Pipe, fn)
	case *parse.WithNode:
		walkFields(n.Pipe, fn)
	case *parse.TemplateNode:
		walkFields(n.Pipe, fn)
	}
}

const (
	wixV3NS = "http://schemas.microsoft.com/wix/2006/wi"
	wixV4NS = "http://wixtoolset.org/schemas/v4/wxs"
)

// unsupported are the WiX elements wixl cannot build, with what to do instead.
var unsupported = map[string]string{
	"Environment": `remove it: relkit adds the install folder to the system PATH itself, for the component with Id "PathEntry" (see templates/msi/default.wxs); other environment variables cannot be set`,
	"UI":          "remove it: relkit installers have no UI (wixl cannot build dialogs)",
	"UIRef":       "remove it: relkit installers have no UI (wixl cannot build WixUI dialog sets)",
	"SetProperty": "use a CustomAction with Property and Value attributes, scheduled in InstallExecuteSequence, instead",
	"RemoveFile":  "remove it (RemoveFolder is supported for empty folders)",
	"CopyFile":    "remove it; install the file a second time with another File element instead",
	"IniFile":     "remove it; install a prepared .ini file with a File element instead",
}

// schedules maps MajorUpgrade/@Schedule, which wixl ignores, to the action
// RemoveExistingProducts must follow; relkit moves it after the build.
var schedules = map[string]string{
	"afterInstallValidate":   "InstallValidate",
	"afterInstallInitialize": "InstallInitialize",
	"afterInstallFinalize":   "InstallFinalize",
}

// features are what Check found that relkit completes after wixl runs.
type features struct {
	// removeAfter is the action RemoveExistingProducts follows; "" keeps wixl's.
	removeAfter string
	// sameVersionUpgrades emulates MajorUpgrade/@AllowSameVersionUpgrades="yes".
	sameVersionUpgrades bool
}

// Check parses a rendered WiX document and rejects what wixl cannot build,
// naming the element, its line and what to do instead.
func Check(name string, wxs []byte) error {
	_, err := check(name, wxs)
	return err
}

func check(name string, wxs []byte) (features, error) {
	var f features
	d := xml.NewDecoder(bytes.NewReader(wxs))
	root := true
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := d.InputPos()
		if err != nil {
			return f, fmt.Errorf("template %s: not well-formed XML: %w", name, err)
		}
		el, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		at := fmt.Sprintf("template %s:%d: <%s>", name, line, el.Name.Local)
		if root {
			root = false
			switch {
			case el.Name.Space == wixV4NS:
				return f, fmt.Errorf("%s uses the WiX v4 schema; wixl builds WiX v3 only: use xmlns=%q as templates/msi/default.wxs does", at, wixV3NS)
			case el.Name.Local != "Wix" || el.Name.Space != wixV3NS:
				return f, fmt.Errorf("%s: the root element must be <Wix xmlns=%q>", at, wixV3NS)
			}
			continue
		}
		if el.Name.Space != wixV3NS {
			return f, fmt.Errorf("%s in namespace %q is a WiX extension element; wixl supports no extensions: remove it", at, el.Name.Space)
		}
		if advice, bad := unsupported[el.Name.Local]; bad {
			return f, fmt.Errorf("%s is not supported by wixl, which builds relkit's installers: %s", at, advice)
		}
		if el.Name.Local != "MajorUpgrade" {
			continue
		}
		for _, a := range el.Attr {
			switch a.Name.Local {
			case "Schedule":
				after, ok := schedules[a.Value]
				if !ok {
					return f, fmt.Errorf("%s: Schedule=%q is not supported; use one of %s", at, a.Value, strings.Join(sortedKeys(schedules), ", "))
				}
				f.removeAfter = after
			case "AllowSameVersionUpgrades":
				f.sameVersionUpgrades = a.Value == "yes"
			}
		}
	}
	if root {
		return f, fmt.Errorf("template %s: empty document; want a WiX v3 <Wix> element", name)
	}
	return f, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
