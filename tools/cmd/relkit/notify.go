package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/relkit/relkit/tools/cli"
	"github.com/relkit/relkit/tools/notify"
)

// notifyFlags configure failure notifications.
type notifyFlags struct {
	webhook, datadogSite, datadogURL string
	datadog                          bool
	workflow, runID, runURL          string
}

func (n *notifyFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&n.webhook, "notify-webhook", "", "on failure, POST a JSON event to this `URL`")
	fs.BoolVar(&n.datadog, "notify-datadog", false, "on failure, send a Datadog event (API key in DATADOG_API_KEY)")
	fs.StringVar(&n.datadogSite, "datadog-site", notify.DefaultSite, "Datadog site")
	fs.StringVar(&n.datadogURL, "datadog-url", "", "Datadog API base `URL` (default https://api.SITE)")
	fs.StringVar(&n.workflow, "workflow-name", "baton-connector-release", "workflow name in alerts")
	fs.StringVar(&n.runID, "run-id", "", "CI run id in alerts (default $GITHUB_RUN_ID)")
	fs.StringVar(&n.runURL, "run-url", "", "CI run link in alerts (default from $GITHUB_SERVER_URL, $GITHUB_REPOSITORY, $GITHUB_RUN_ID)")
}

func (n *notifyFlags) senders(env *cli.Env) []notify.Sender {
	var out []notify.Sender
	if n.webhook != "" {
		out = append(out, &notify.Webhook{URL: n.webhook})
	}
	if n.datadog {
		out = append(out, &notify.Datadog{Site: n.datadogSite, BaseURL: n.datadogURL, APIKey: env.Env("DATADOG_API_KEY")})
	}
	return out
}

// send reports a failure; problems sending are printed, never returned.
func (n *notifyFlags) send(ctx context.Context, env *cli.Env, f notify.Failure) {
	senders := n.senders(env)
	if len(senders) == 0 {
		return
	}
	f.Workflow = n.workflow
	f.RunID = n.runID
	if f.RunID == "" {
		f.RunID = env.Env("GITHUB_RUN_ID")
	}
	f.RunURL = n.runURL
	if f.RunURL == "" && env.Env("GITHUB_RUN_ID") != "" {
		f.RunURL = fmt.Sprintf("%s/%s/actions/runs/%s", env.Env("GITHUB_SERVER_URL"), env.Env("GITHUB_REPOSITORY"), env.Env("GITHUB_RUN_ID"))
	}
	if err := notify.Send(ctx, f, senders...); err != nil {
		fmt.Fprintf(env.Stderr, "notify: warning: %v\n", err)
	} else {
		fmt.Fprintf(env.Stderr, "notify: failure reported to %d target(s)\n", len(senders))
	}
}

func notifyCmd() *cli.Command {
	var (
		n              notifyFlags
		org, repo, tag string
		messages       cli.StringList
	)
	return &cli.Command{
		Name:    "notify",
		Args:    "--org ORG --repo REPO --tag TAG [--message TEXT]... [flags]",
		Summary: "report a failed release to Datadog and/or a webhook",
		Help: `Sends a release-failure alert: a Datadog event (title "Baton Connector
Release Failed", the run link first, the messages in a code block trimmed to
their last 3500 characters, tags github_repository, github_release_tag,
github_workflow) and/or a JSON webhook. Best effort: a target that fails or
stalls (10 s) is reported on stderr, and the exit status is still 0.

Example (a workflow's failure job):
  DATADOG_API_KEY=... relkit notify --org ConductorOne --repo baton-foo --tag v1.2.3 \
    --notify-datadog --message "publish: upload artifacts: ..."`,
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&org, "org", "", "repository owner (required)")
			fs.StringVar(&repo, "repo", "", "repository name (required)")
			fs.StringVar(&tag, "tag", "", "release tag (required)")
			fs.Var(&messages, "message", "a failure line, e.g. 'JOB: MESSAGE' (repeatable)")
			n.register(fs)
		},
		Run: func(ctx context.Context, env *cli.Env, args []string) error {
			if len(args) != 0 {
				return cli.Usagef("unexpected arguments %q", args)
			}
			if err := cli.Required(map[string]string{"org": org, "repo": repo, "tag": tag}); err != nil {
				return err
			}
			if len(n.senders(env)) == 0 {
				return cli.Usagef("no target: give --notify-webhook and/or --notify-datadog")
			}
			n.send(ctx, env, notify.Failure{Org: org, Repo: repo, Tag: tag, Messages: messages})
			return nil
		},
	}
}
