/**
 * Slack templates real teams publish, as slack_configs for a real Alertmanager 0.25 (see capture-templates.ts).
 * Each names where it was read (repository, path, commit); `adapted` says what had to change for it to render
 * outside its deployment (Helm or Terraform placeholders filled in, a broken expression dropped).
 */
import type { SlackTemplate } from './real-alertmanager';

export interface PublishedTemplate extends SlackTemplate {
  source: { repository: string; path: string; commit?: string; note?: string };
  adapted?: string;
}

export const TEMPLATES: PublishedTemplate[] = [
  {
    id: 'default',
    source: { repository: 'prometheus/alertmanager', path: 'template/default.tmpl', note: 'built-in slack.default.*' },
    config: '',
  },
  {
    id: 'community',
    source: {
      repository: 'liatrio/lead-terraform',
      path: 'modules/lead/toolchain/prometheus-values.tpl',
      note: 'the widely copied *Alert:* / *Details:* text; also shelleg/prometheus-stack docs/am/am-template.md',
    },
    adapted: 'pasted with YAML `>-` folding and .Annotations.summary, as it is most often copied',
    config: `        title: '[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] Monitoring Event Notification'
        text: >-
          {{ range .Alerts }}
            *Alert:* {{ .Annotations.summary }} - \`{{ .Labels.severity }}\`
            *Description:* {{ .Annotations.description }}
            *Graph:* <{{ .GeneratorURL }}|:chart_with_upwards_trend:> *Runbook:* <{{ .Annotations.runbook }}|:spiral_note_pad:>
            *Details:*
            {{ range .Labels.SortedPairs }} • *{{ .Name }}:* \`{{ .Value }}\`
            {{ end }}
          {{ end }}`,
  },
  {
    id: 'kube-prometheus-stack',
    source: {
      repository: 'prometheus-community/helm-charts',
      path: 'charts/kube-prometheus-stack/values.yaml',
      note: 'alertmanager.templateFiles example slack.myorg.text',
    },
    config: `        text: '{{ template "slack.myorg.text" . }}'`,
    defines: `{{ define "cluster" }}{{ .ExternalURL | reReplaceAll ".*alertmanager\\\\.(.*)" "$1" }}{{ end }}

{{ define "slack.myorg.text" }}
{{- $root := . -}}
{{ range .Alerts }}
  *Alert:* {{ .Annotations.summary }} - \`{{ .Labels.severity }}\`
  *Cluster:* {{ template "cluster" $root }}
  *Description:* {{ .Annotations.description }}
  *Graph:* <{{ .GeneratorURL }}|:chart_with_upwards_trend:>
  *Runbook:* <{{ .Annotations.runbook }}|:spiral_note_pad:>
  *Details:*
    {{ range .Labels.SortedPairs }} - *{{ .Name }}:* \`{{ .Value }}\`
    {{ end }}
{{ end }}
{{ end }}
`,
  },
  {
    id: 'prometheus-docs-range',
    source: {
      repository: 'prometheus/docs',
      path: 'content/docs/alerting/notification_examples.md',
      commit: '0ea1d8d431f706641d4dfd754153cde4407b32c6',
      note: '"Ranging over all received Alerts"',
    },
    config: `        title: "{{ range .Alerts }}{{ .Annotations.summary }}\\n{{ end }}"
        text: "{{ range .Alerts }}{{ .Annotations.description }}\\n{{ end }}"`,
  },
  {
    id: 'prometheus-docs-common',
    source: {
      repository: 'prometheus/docs',
      path: 'content/docs/alerting/notification_examples.md',
      commit: '0ea1d8d431f706641d4dfd754153cde4407b32c6',
      note: '"Accessing annotations in CommonAnnotations"',
    },
    config: `        text: "<!channel> \\nsummary: {{ .CommonAnnotations.summary }}\\ndescription: {{ .CommonAnnotations.description }}"`,
  },
  {
    id: 'govuk',
    source: {
      repository: 'alphagov/govuk-helm-charts',
      path: 'charts/kube-prometheus-stack-bootstrap/templates/_slack-template.tpl (+ _slack-helpers.tpl)',
      commit: '0d31f30c2e32bd6cca386a2e45054e4960b8ba7f',
    },
    adapted:
      'Helm escaping removed; the per-alert "Actions" links dropped from slack.text (they use .ExternalURL inside range .Alerts, which does not evaluate); no environment label',
    config: `        color: '{{ if and (eq .Status "firing") (eq .CommonLabels.severity "critical") }}#ff0000{{ else if eq .Status "firing" }}#ffa500{{ else }}#008000{{ end }}'
        username: 'Prometheus Alertmanager'
        pretext: '{{ if eq .Status "firing" }}The following alert is firing:{{ else }}This alert is resolved:{{ end }}'
        title: '{{ template "govuk.emoji" . }} {{ template "govuk.title" . }}: {{ .CommonLabels.alertname }}'
        text: '{{ template "govuk.text" . }}'
        fields:
          - title: Status
            value: '{{ if eq .Status "firing" }}:fire: Firing{{ else }}:green_tick: Resolved{{ end }}'
            short: true
          - title: Severity
            value: '{{ template "govuk.emoji" . }} {{ .CommonLabels.severity | title }}'
            short: true
          - title: Environment
            value: '{{ .CommonLabels.environment | title }}'
            short: true
        footer: 'Sent by Alertmanager'`,
    defines: `{{ define "govuk.emoji" }}{{ if and (eq .Status "firing") (eq .CommonLabels.severity "critical") }}:octagonal_sign:{{ else if eq .Status "firing" }}:warning:{{ else }}:green_tick:{{ end }}{{ end }}
{{ define "govuk.title" }}{{ if and (eq .Status "firing") (eq .CommonLabels.severity "critical") }}ERROR{{ else if eq .Status "firing" }}WARNING{{ else }}RESOLVED{{ end }}{{ end }}
{{ define "govuk.text" -}}
{{- if .CommonAnnotations.summary }}
*{{ .CommonAnnotations.summary }}*
{{- end }}

{{- if .CommonAnnotations.description }}
*Description*:
{{ .CommonAnnotations.description }}
{{ end }}

{{- if .CommonLabels.SortedPairs }}
*Labels*:
  {{ range .CommonLabels.SortedPairs }}
  • *{{ .Name }}*: {{ .Value }}
  {{- end }}
{{ end }}

{{ if .Alerts }}
*Firing Alerts*
================
{{ range .Alerts }}
  {{ if eq .Status "firing" }}
  • *{{ .Annotations.summary }}*: 
    {{ .Annotations.description }}
  {{ end }}
{{ end }}
{{ end }}

*Links:*
{{- if .CommonAnnotations.runbook_url }}
• <{{ .CommonAnnotations.runbook_url }}|:orange_book: View Runbook>
{{- else }}
• :orange_book: No Runbook has been provided
{{- end }}
{{- end }}
`,
  },
  {
    id: 'ministryofjustice',
    source: {
      repository: 'ministryofjustice/cloud-platform-terraform-monitoring',
      path: 'templates/prometheus-operator-eks.yaml.tpl (slack.cp.*), templates/alertmanager_receivers.tpl',
      commit: '00e27ae4c8696dec73dc63ad027cbf5bea12ce37',
    },
    adapted: 'the receiver footer (a Terraform variable) set to a fixed host; actions kept',
    config: `        title: '{{ template "slack.cp.title" . }}'
        text: '{{ template "slack.cp.text" . }}'
        footer: alertmanager.example.org
        actions:
          - type: button
            text: 'Runbook :blue_book:'
            url: '{{ (index .Alerts 0).Annotations.runbook_url }}'
          - type: button
            text: 'Query :mag:'
            url: '{{ (index .Alerts 0).GeneratorURL }}'`,
    defines: `{{ define "slack.cp.title" -}}
  [{{ .Status | toUpper -}}
  {{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{- end -}}
  ] {{ template "__alert_severity_prefix_title" . }} {{ .CommonLabels.alertname }}
{{- end }}

{{ define "slack.cp.text" -}}
  {{ range .Alerts }}
      *Alert:* {{ .Annotations.message}}
      *Details:*
      {{ range .Labels.SortedPairs }} - *{{ .Name }}:* \`{{ .Value }}\`
      {{ end }}
      *-----*
    {{ end }}
{{- end }}

{{ define "__alert_severity_prefix_title" -}}
    {{ if ne .Status "firing" -}}
    :white_check_mark:
    {{- else if eq .CommonLabels.severity "critical" -}}
    :fire:
    {{- else if eq .CommonLabels.severity "warning" -}}
    :warning:
    {{- else if eq .CommonLabels.severity "info" -}}
    :information_source:
    {{- else -}}
    :question:
    {{- end }}
{{- end }}
`,
  },
  {
    id: 'gitlab',
    source: {
      repository: 'mattrussi/gitlab-com-runbooks',
      path: 'alertmanager/templates/gitlab.tmpl',
      commit: '03c89e83f22ebbc002487018f498da0c2db4e621',
      note: 'a mirror of gitlab.com/gitlab-com/runbooks',
    },
    config: `        title: '{{ template "gitlab.title" . }}'
        text: '{{ template "gitlab.text" . }}'`,
    defines: `{{ define "gitlab.title" }}
    {{- if .GroupLabels.type -}}
        {{- printf "%s - Service %s (%s)" .Status .GroupLabels.type .CommonLabels.env -}}
    {{- else -}}
        {{- printf "%s - %s (%s)" .Status .CommonAnnotations.title .CommonLabels.env -}}
    {{- end -}}
{{ end }}

{{ define "gitlab.text" }}
    {{- if eq .Status "firing" -}}
        {{- printf ":fire: Alerts :fire:\\n" -}}
        {{- range .Alerts -}}
            {{- if .GeneratorURL -}}
                {{- printf "*<%s|%s>*" .GeneratorURL .Labels.alertname -}}
            {{- else -}}
                {{- printf "*%s*" .Labels.alertname -}}
            {{- end -}}
            {{- printf "\\n" -}}
            {{- printf "%s\\n\\n" .Annotations.title -}}
            {{- printf "%s\\n\\n" .Annotations.description -}}
        {{- end -}}
        {{- if gt (len .CommonLabels) 0 -}}
            {{- $removeLabels := stringSlice "alert_class" "environment" "feature_category" "pager" "monitor" "rules_domain" "severity" "slo_alert" "user_impacting" -}}
            {{- $filteredLabels := .CommonLabels.Remove $removeLabels -}}
            {{- printf "\\n:label: Labels :label:\\n" -}}
            {{- range $filteredLabels.SortedPairs -}}
                {{- printf "*%s*: %s\\n" .Name .Value -}}
            {{- end -}}
        {{- end -}}
    {{- end -}}
{{ end }}
`,
    adapted: 'the Thanos graph link (promql_template_1 annotation) left out: the alerts have no such annotation',
  },
  {
    id: 'ft-transcendence',
    source: {
      repository: 'mmeuric/ft_transcendence',
      path: 'project/infra/monitoring/alertmanager/alertmanager.yml.tpl',
    },
    config: `        title: '[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}'
        text: >-
          {{ range .Alerts -}}
          *{{ .Labels.job }}* — {{ .Annotations.summary }}
          {{ .Annotations.description }}
          {{ end }}`,
  },
  {
    id: 'kalisio-kargo',
    source: { repository: 'kalisio/kargo', path: 'configs/prometheus/alertmanager.yml.tpl' },
    adapted: '${SUBDOMAIN} set to prod',
    config: `        title: 'prod'
        title_link: ''
        text: '{{ if eq .Status "resolved" }}[RESOLVED] {{ end }}{{ .CommonAnnotations.summary }}'`,
  },
  {
    id: 'cluster-alerting',
    source: { repository: 'tuanha1305/observability', path: 'jsonnet/addons/slack-alerting.libsonnet' },
    adapted: "clusterName set to prod (std.extVar('cluster_name'))",
    config: `        title: '[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] prod Cluster Alerting'
        text: |
          {{ range .Alerts }}
          *Cluster:* {{ .Labels.cluster }}
          *Alert:* {{ .Labels.alertname }}
          *Description:* {{ .Annotations.description }}
          {{ end }}
        actions:
          - type: button
            text: 'Runbook :book:'
            url: '{{ .CommonAnnotations.runbook_url }}'`,
  },
  {
    id: 'duplocloud',
    source: {
      repository: 'duplocloud/opentelemetry-release',
      path: 'integrations/integration-duplo-bootstrap/provisioning_mimir_alertmanager/duplo_templates.tpl',
    },
    adapted: '${AOS_DUPLO_PORTAL_NAME} set to prod, ${AOS_GRAFANA_URL} to grafana.example.org',
    config: `        title: '{{ template "slack.alert.title" . }}'
        title_link: '{{ template "slack.alert.title_link" . }}'
        text: '{{ template "slack.alert.text" . }}'`,
    defines: `{{ define "slack.alert.title" }}
prod - {{ .CommonLabels.cluster }} [{{ .Status | toUpper }}:{{ .Alerts | len }}]
{{ end }}

{{ define "slack.alert.title_link" }}
https://grafana.example.org/alerting/list?search={{ .CommonLabels.alertname }}
{{ end }}

{{ define "slack.alert.text" }}
{{ range .Alerts -}}
📢 *Alert:* {{ if .Labels.severity }} - \`{{ .Labels.severity }}\` {{- end }}  {{ .Labels.alertname }} for {{ if .Labels.pod }}{{ .Labels.pod }}{{ else if .Labels.instance }}{{ .Labels.instance }}{{ else if .Labels.job }}{{ .Labels.job }}{{ else }}unknown{{ end }}

*📝 Description:* {{ .Annotations.description }}

*📌 Details:*
  {{ range .Labels.SortedPairs }}• *{{ .Name }}:* \`{{ .Value }}\`
  {{ end }}
📖 {{ if .Annotations.runbook_url }}<{{ .Annotations.runbook_url }}|Runbook>{{ else }}No Runbook Available{{ end }}
🔗 <https://grafana.example.org/alerting/list?search={{ .Labels.alertname }}|Grafana Dashboard>

{{ end }}
{{ end }}
`,
  },
];
