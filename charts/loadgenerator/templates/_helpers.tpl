{{/* The URL the generator targets: `target`, else the gateway Service in the release namespace. */}}
{{- define "loadgenerator.target" -}}
{{- .Values.target | default (printf "http://%s:%d" .Values.gateway.serviceName (int64 .Values.gateway.port)) -}}
{{- end -}}

{{/* A duration value (`60s`, `5m`, `250ms`) or a bare number of seconds, as the generator's flag reads it. */}}
{{- define "loadgenerator.duration" -}}
{{- $v := include "dronedelivery.envValue" . -}}
{{- if regexMatch "^[0-9]+(\\.[0-9]+)?$" $v -}}{{ $v }}s{{- else -}}{{ $v }}{{- end -}}
{{- end -}}

{{/* The generator's arguments, one flag per pair (tools/loadgen/README.md). */}}
{{- define "loadgenerator.args" -}}
{{- $v := .Values -}}
{{- $args := list "--target" (include "loadgenerator.target" .) -}}
{{- if gt (int64 $v.users) 0 -}}
{{- $args = concat $args (list "--users" (toString (int64 $v.users))) -}}
{{- else -}}
{{- $args = concat $args (list "--rate" (include "dronedelivery.envValue" $v.rate)) -}}
{{- end -}}
{{- $args = concat $args (list "--duration" (include "loadgenerator.duration" $v.duration) "--ramp" (include "loadgenerator.duration" $v.ramp)) -}}
{{- with $v.think }}{{ $args = concat $args (list "--think" (toString .)) }}{{ end -}}
{{- with $v.poll }}{{ $args = concat $args (list "--poll" (include "loadgenerator.duration" .)) }}{{ end -}}
{{- $args = concat $args (list "--mix" "/etc/loadgen/mix.json" "--report-dir" $v.report.mountPath) -}}
{{- if gt (int64 $v.thresholds.maxP99Ms) 0 -}}
{{- $args = concat $args (list "--max-p99-ms" (toString (int64 $v.thresholds.maxP99Ms))) -}}
{{- end -}}
{{- if ne (toString $v.thresholds.maxErrorRate) "" -}}
{{- $args = concat $args (list "--max-error-rate" (include "dronedelivery.envValue" $v.thresholds.maxErrorRate)) -}}
{{- end -}}
{{- if ne (toString $v.thresholds.minE2eRate) "" -}}
{{- $args = concat $args (list "--min-e2e-rate" (include "dronedelivery.envValue" $v.thresholds.minE2eRate)) -}}
{{- end -}}
{{- with $v.windowStart }}{{ $args = concat $args (list "--window-start" (toString .)) }}{{ end -}}
{{- if gt (int64 $v.fleet) 0 -}}
{{- $args = concat $args (list "--fleet" (toString (int64 $v.fleet))) -}}
{{- end -}}
{{- $args = concat $args (list "--auth" $v.auth.mode "--owner-prefix" $v.auth.ownerPrefix "--owners" (toString (int64 $v.auth.owners))) -}}
{{- if eq $v.auth.mode "entra" -}}
{{- $args = concat $args (list "--entra-scope" $v.auth.entraScope) -}}
{{- end -}}
{{- $args = concat $args ($v.extraArgs | default list) -}}
{{- toYaml $args -}}
{{- end -}}

{{/* The init container's readiness poll: Node's fetch in the generator image itself (no shell, no busybox). */}}
{{- define "loadgenerator.waitScript" -}}
const url = process.env.WAIT_URL;
const deadline = Date.now() + Number(process.env.WAIT_TIMEOUT_MS);
const every = Number(process.env.WAIT_INTERVAL_MS);
(async () => {
  for (;;) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(Math.max(every, 1000)) });
      if (response.ok) { console.log(`gateway ready: ${url} answered ${response.status}`); return; }
      console.log(`gateway not ready: ${url} answered ${response.status}`);
    } catch (error) {
      console.log(`gateway not ready: ${url}: ${error.cause?.code ?? error.message}`);
    }
    if (Date.now() > deadline) { console.error(`gave up waiting for ${url}`); process.exit(1); }
    await new Promise((resolve) => setTimeout(resolve, every));
  }
})();
{{- end -}}
