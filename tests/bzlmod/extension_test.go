package bzlmod

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// runRelkitExtension loads relkit's go_release extension and runs it on the
// tags of every module that uses it, as Bazel does, then checks what it
// declared: every repository a module imports exists, and every label the
// declared repositories are given resolves.
func (g *graph) runRelkitExtension() error {
	relkit := g.byName["relkit"]
	if relkit == nil || relkit.dir == "" {
		return errors.New("the graph has no relkit module with files")
	}
	bzl := &bzlLoader{dir: relkit.dir, read: g.read, loaded: map[string]starlark.StringDict{}}
	globals, err := bzl.load("rules/extensions.bzl")
	if err != nil {
		return err
	}
	ext, ok := globals["go_release"].(*extensionDef)
	if !ok {
		return errors.New("rules/extensions.bzl defines no module_extension go_release")
	}
	var mods []starlark.Value
	for _, m := range g.modules {
		v, err := ext.moduleValue(m)
		if err != nil {
			return err
		}
		if v != nil {
			mods = append(mods, v)
		}
	}
	run := &extRun{repos: map[string]*repoCall{}}
	thread := &starlark.Thread{Name: relkitExtension}
	thread.SetLocal(runKey, run)
	mctx := starlarkstruct.FromStringDict(starlark.String("module_ctx"), starlark.StringDict{"modules": starlark.NewList(mods)})
	if _, err := starlark.Call(thread, ext.impl, starlark.Tuple{mctx}, nil); err != nil {
		return fmt.Errorf("running go_release: %w", starlarkErr(err))
	}
	g.repos = run.repos
	return g.checkRelkitRepos(relkit)
}

func (g *graph) checkRelkitRepos(relkit *module) error {
	var problems []string
	generated := func(ref repoRef) bool { return ref.ext != relkitExtension || g.repos[ref.repo] != nil }
	for _, m := range g.modules {
		for _, u := range m.usages {
			if u.ext != relkitExtension || u.ignored {
				continue
			}
			for _, apparent := range sortedKeys(u.imports) {
				if imp := u.imports[apparent]; g.repos[imp.repo] == nil {
					problems = append(problems, fmt.Sprintf("%s: module %s imports %q, which go_release does not declare here (it declares %s)", imp.pos, m.name, imp.repo, strings.Join(sortedKeys(g.repos), ", ")))
				}
			}
		}
		for _, tc := range m.toolchains {
			ref, _, err := m.resolve(tc[0])
			if err == nil && !generated(ref) {
				err = fmt.Errorf("go_release does not declare %s", ref.repo)
			}
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: register_toolchains(%q): %v", tc[1], tc[0], err))
			}
		}
	}
	for _, name := range sortedKeys(g.repos) {
		call := g.repos[name]
		for _, attr := range sortedKeys(call.rule.attrs) {
			if call.rule.attrs[attr].kind != "label" {
				continue
			}
			var ref repoRef
			var err error
			switch v := call.attrs[attr].(type) {
			case *labelValue:
				ref = v.repo
			case starlark.String:
				// Bazel before 7.4 resolves these in the mapping of the module
				// that defines the extension; later ones also see the
				// extension's own repositories. This check takes the former.
				ref, _, err = relkit.resolve(string(v))
			default:
				continue
			}
			if err == nil && !generated(ref) {
				err = fmt.Errorf("go_release does not declare %s", ref.repo)
			}
			if err != nil {
				problems = append(problems, fmt.Sprintf("repository %s (%s), attribute %s = %s: %v", name, call.pos, attr, call.attrs[attr], err))
			}
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n"))
	}
	return nil
}

// bzlLoader loads .bzl files of the relkit module with the load-time builtins
// of Bazel 7's .bzl files that relkit's extension uses.
type bzlLoader struct {
	dir    string
	read   func(string) ([]byte, error)
	loaded map[string]starlark.StringDict
}

func (l *bzlLoader) load(file string) (starlark.StringDict, error) {
	if g, ok := l.loaded[file]; ok {
		if g == nil {
			return nil, fmt.Errorf("%s: load cycle", file)
		}
		return g, nil
	}
	l.loaded[file] = nil
	src, err := l.read(filepath.Join(l.dir, filepath.FromSlash(file)))
	if err != nil {
		return nil, err
	}
	thread := &starlark.Thread{Name: file, Load: func(_ *starlark.Thread, label string) (starlark.StringDict, error) {
		target, err := bzlPath(path.Dir(file), label)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		return l.load(target)
	}}
	g, err := starlark.ExecFileOptions(dialect, thread, file, src, bzlBuiltins)
	if err != nil {
		return nil, starlarkErr(err)
	}
	l.loaded[file] = g
	return g, nil
}

// bzlPath turns a load() label into a path in the relkit module.
func bzlPath(pkg, label string) (string, error) {
	switch {
	case strings.HasPrefix(label, ":"):
		return path.Join(pkg, label[1:]), nil
	case strings.HasPrefix(label, "//"), strings.HasPrefix(label, "@relkit//"):
		p, name, _ := strings.Cut(label[strings.Index(label, "//")+2:], ":")
		return path.Join(p, name), nil
	}
	return "", fmt.Errorf("load(%q): only relkit's own files are modelled", label)
}

var bzlBuiltins = starlark.StringDict{
	"struct": starlark.NewBuiltin("struct", starlarkstruct.Make),
	"fail": starlark.NewBuiltin("fail", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
		msg := make([]string, len(args))
		for i, a := range args {
			if s, ok := starlark.AsString(a); ok {
				msg[i] = s
			} else {
				msg[i] = a.String()
			}
		}
		return nil, errors.New(strings.Join(msg, " "))
	}),
	"attr": starlarkstruct.FromStringDict(starlark.String("attr"), starlark.StringDict{
		"bool":        attrBuiltin("bool"),
		"int":         attrBuiltin("int"),
		"label":       attrBuiltin("label"),
		"label_list":  attrBuiltin("label_list"),
		"string":      attrBuiltin("string"),
		"string_dict": attrBuiltin("string_dict"),
		"string_list": attrBuiltin("string_list"),
	}),
	"tag_class": starlark.NewBuiltin("tag_class", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var attrs *starlark.Dict
		var doc string
		if err := starlark.UnpackArgs("tag_class", args, kwargs, "attrs?", &attrs, "doc?", &doc); err != nil {
			return nil, err
		}
		a, err := attrDefs("tag_class", attrs)
		return &tagClass{"tag_class", a}, err
	}),
	"module_extension": starlark.NewBuiltin("module_extension", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var impl starlark.Callable
		var classes *starlark.Dict
		var doc string
		if err := starlark.UnpackArgs("module_extension", args, kwargs, "implementation", &impl, "tag_classes?", &classes, "doc?", &doc); err != nil {
			return nil, err
		}
		e := &extensionDef{opaque: "module_extension", impl: impl, classes: map[string]*tagClass{}}
		if classes != nil {
			for _, kv := range classes.Items() {
				name, ok1 := starlark.AsString(kv[0])
				tc, ok2 := kv[1].(*tagClass)
				if !ok1 || !ok2 {
					return nil, errors.New("module_extension: tag_classes maps names to tag_class()")
				}
				e.classes[name] = tc
			}
		}
		return e, nil
	}),
	"repository_rule": starlark.NewBuiltin("repository_rule", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var impl starlark.Callable
		var attrs *starlark.Dict
		var doc string
		var environ *starlark.List
		var configure, local bool
		if err := starlark.UnpackArgs("repository_rule", args, kwargs, "implementation", &impl, "attrs?", &attrs, "doc?", &doc, "environ?", &environ, "configure?", &configure, "local?", &local); err != nil {
			return nil, err
		}
		a, err := attrDefs("repository_rule", attrs)
		return &repoRule{"repository_rule", a}, err
	}),
}

// attrDef is an attribute of a tag class or repository rule.
type attrDef struct {
	opaque
	kind      string
	mandatory bool
	def       starlark.Value
}

// zeroValue is each kind's default when attr.<kind>() sets none.
var zeroValue = map[string]func() starlark.Value{
	"bool":        func() starlark.Value { return starlark.False },
	"int":         func() starlark.Value { return starlark.MakeInt(0) },
	"label":       func() starlark.Value { return starlark.None },
	"label_list":  func() starlark.Value { return starlark.NewList(nil) },
	"string":      func() starlark.Value { return starlark.String("") },
	"string_dict": func() starlark.Value { return starlark.NewDict(0) },
	"string_list": func() starlark.Value { return starlark.NewList(nil) },
}

// attrBuiltin models attr.<kind>(): it keeps default and mandatory and
// accepts Bazel's other parameters (doc, allow_single_file, ...) unchecked.
func attrBuiltin(kind string) *starlark.Builtin {
	return starlark.NewBuiltin("attr."+kind, func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if len(args) > 0 {
			return nil, fmt.Errorf("attr.%s: keyword arguments only", kind)
		}
		a := &attrDef{opaque: "Attribute", kind: kind, def: zeroValue[kind]()}
		for _, kv := range kwargs {
			switch kv[0] {
			case starlark.String("default"):
				if err := checkAttrValue(kind, kv[1]); err != nil {
					return nil, fmt.Errorf("attr.%s: default: %w", kind, err)
				}
				a.def = kv[1]
			case starlark.String("mandatory"):
				a.mandatory = bool(kv[1].Truth())
			}
		}
		return a, nil
	})
}

func attrDefs(fn string, d *starlark.Dict) (map[string]*attrDef, error) {
	out := map[string]*attrDef{}
	if d == nil {
		return out, nil
	}
	for _, kv := range d.Items() {
		name, ok1 := starlark.AsString(kv[0])
		a, ok2 := kv[1].(*attrDef)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("%s: attrs maps names to attr.*()", fn)
		}
		out[name] = a
	}
	return out, nil
}

// checkAttrValue checks a value's type against an attribute kind.
func checkAttrValue(kind string, v starlark.Value) error {
	ok := false
	switch kind {
	case "bool":
		_, ok = v.(starlark.Bool)
	case "int":
		_, ok = v.(starlark.Int)
	case "string":
		_, ok = v.(starlark.String)
	case "label":
		switch v.(type) {
		case starlark.String, *labelValue, starlark.NoneType:
			ok = true
		}
	case "label_list", "string_list":
		l, isList := v.(*starlark.List)
		ok = isList
		for i := 0; isList && i < l.Len(); i++ {
			if _, isStr := l.Index(i).(starlark.String); !isStr && kind == "string_list" {
				ok = false
			}
		}
	case "string_dict":
		if d, isDict := v.(*starlark.Dict); isDict {
			ok = true
			for _, kv := range d.Items() {
				_, k := kv[0].(starlark.String)
				_, s := kv[1].(starlark.String)
				ok = ok && k && s
			}
		}
	}
	if !ok {
		return fmt.Errorf("got %s, want a %s", v.Type(), kind)
	}
	return nil
}

type tagClass struct {
	opaque
	attrs map[string]*attrDef
}

type extensionDef struct {
	opaque
	impl    starlark.Callable
	classes map[string]*tagClass
}

// moduleValue is m as the extension sees it in module_ctx.modules, or nil if
// m does not use the extension. Tags are checked against their classes and
// their labels resolved in m's repository mapping, as Bazel does.
func (e *extensionDef) moduleValue(m *module) (starlark.Value, error) {
	byClass := map[string][]starlark.Value{}
	used := false
	for _, u := range m.usages {
		if u.ext != relkitExtension || u.ignored {
			continue
		}
		used = true
		for _, tc := range u.tags {
			class, ok := e.classes[tc.class]
			if !ok {
				return nil, fmt.Errorf("%s: go_release has no tag class %q (it has %s)", tc.pos, tc.class, strings.Join(sortedKeys(e.classes), ", "))
			}
			tag, err := class.tag(m, tc)
			if err != nil {
				return nil, fmt.Errorf("%s: go_release.%s: %w", tc.pos, tc.class, err)
			}
			byClass[tc.class] = append(byClass[tc.class], tag)
		}
	}
	if !used {
		return nil, nil
	}
	tags := starlark.StringDict{}
	for name := range e.classes {
		tags[name] = starlark.NewList(byClass[name])
	}
	return starlarkstruct.FromStringDict(starlark.String("bazel_module"), starlark.StringDict{
		"name":    starlark.String(m.name),
		"is_root": starlark.Bool(m.root),
		"tags":    starlarkstruct.FromStringDict(starlark.String("bazel_module_tags"), tags),
	}), nil
}

func (t *tagClass) tag(m *module, tc *tagCall) (starlark.Value, error) {
	values, err := bindAttrs(t.attrs, tc.kwargs, func(s starlark.String) (starlark.Value, error) {
		ref, rest, err := m.resolve(string(s))
		if err != nil {
			return nil, err
		}
		return &labelValue{opaque: "Label", repo: ref, target: rest}, nil
	})
	if err != nil {
		return nil, err
	}
	return starlarkstruct.FromStringDict(starlark.String("tag"), values), nil
}

// bindAttrs checks keyword arguments against attribute definitions, as Bazel
// does for tags and repository rules, and returns every attribute's value,
// defaults filled in. Private attributes (_name) cannot be set; None means
// the default. label, if set, converts a string given to a label attribute.
func bindAttrs(attrs map[string]*attrDef, kwargs []starlark.Tuple, label func(starlark.String) (starlark.Value, error)) (starlark.StringDict, error) {
	values := starlark.StringDict{}
	for _, kv := range kwargs {
		name := string(kv[0].(starlark.String))
		a, ok := attrs[name]
		if !ok || strings.HasPrefix(name, "_") {
			var public []string
			for _, n := range sortedKeys(attrs) {
				if !strings.HasPrefix(n, "_") {
					public = append(public, n)
				}
			}
			return nil, fmt.Errorf("no attribute %q (it has %s)", name, strings.Join(public, ", "))
		}
		if err := checkAttrValue(a.kind, kv[1]); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		v := kv[1]
		if s, ok := v.(starlark.String); ok && a.kind == "label" && label != nil {
			var err error
			if v, err = label(s); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
		}
		if v != starlark.None {
			values[name] = v
		}
	}
	for _, name := range sortedKeys(attrs) {
		if _, ok := values[name]; ok {
			continue
		}
		if attrs[name].mandatory {
			return nil, fmt.Errorf("missing mandatory attribute %q", name)
		}
		values[name] = attrs[name].def
	}
	return values, nil
}

// labelValue is a label resolved in the module that wrote it.
type labelValue struct {
	opaque
	repo   repoRef
	target string // "//package:name"
}

func (l *labelValue) String() string        { return fmt.Sprintf("Label(%s %s)", l.repo, l.target) }
func (l *labelValue) Hash() (uint32, error) { return starlark.String(l.String()).Hash() }

// repoRule is a repository rule; called while an extension runs, it declares
// a repository of that extension.
type repoRule struct {
	opaque
	attrs map[string]*attrDef
}

type repoCall struct {
	rule  *repoRule
	attrs map[string]starlark.Value // every attribute, defaults filled in
	pos   string
}

type extRun struct{ repos map[string]*repoCall }

const runKey = "relkit.extension_run"

func (r *repoRule) Name() string { return "repository_rule" }

func (r *repoRule) CallInternal(thread *starlark.Thread, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	run, _ := thread.Local(runKey).(*extRun)
	if run == nil {
		return nil, errors.New("a repository rule called outside a module extension")
	}
	if len(args) > 0 {
		return nil, errors.New("repository rules take keyword arguments only")
	}
	name := ""
	var rest []starlark.Tuple
	for _, kv := range kwargs {
		if kv[0] == starlark.String("name") {
			name, _ = starlark.AsString(kv[1])
		} else {
			rest = append(rest, kv)
		}
	}
	if name == "" {
		return nil, errors.New("repository rule called without a name")
	}
	if prev := run.repos[name]; prev != nil {
		return nil, fmt.Errorf("repository %s declared twice (first at %s)", name, prev.pos)
	}
	attrs, err := bindAttrs(r.attrs, rest, nil)
	if err != nil {
		return nil, fmt.Errorf("repository %s: %w", name, err)
	}
	run.repos[name] = &repoCall{rule: r, attrs: attrs, pos: callerPos(thread)}
	return starlark.None, nil
}
