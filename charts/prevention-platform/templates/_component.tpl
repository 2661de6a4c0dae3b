{{/* Shared component templates; templates/<component>/*.yaml include them with
     (dict "root" $ "component" "<name>" "values" .Values.<name>). */}}

{{/* ---------------------------------------------------------------- Deployment */}}
{{- define "prevention.deployment" -}}
{{- $root := .root -}}
{{- $c := .component -}}
{{- $v := .values -}}
{{- $isGateway := eq $c "gateway" -}}
{{- if le (int $v.terminationGracePeriodSeconds) (int $root.Values.drainGraceSeconds) -}}
{{- fail (printf "%s.terminationGracePeriodSeconds must be longer than drainGraceSeconds" $c) -}}
{{- end -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "prevention.componentName" . }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "prevention.labels" . | nindent 4 }}
spec:
  {{- if not $v.autoscaling.enabled }}
  replicas: {{ $v.replicaCount }}
  {{- end }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "prevention.selectorLabels" . | nindent 6 }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 0
      maxSurge: 1
  template:
    metadata:
      labels:
        {{- include "prevention.labels" . | nindent 8 }}
      annotations:
        checksum/config: {{ include (print $root.Template.BasePath "/configmap.yaml") $root | sha256sum }}
        {{- if not $isGateway }}
        checksum/database: {{ include (print $root.Template.BasePath "/database-secrets.yaml") $root | sha256sum }}
        {{- end }}
        {{- with $v.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "prevention.serviceAccountName" . }}
      ## The API token is never auto-mounted; components that use the Kubernetes API get it through
      ## an explicit projected volume below.
      automountServiceAccountToken: false
      terminationGracePeriodSeconds: {{ $v.terminationGracePeriodSeconds }}
      enableServiceLinks: false
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- toYaml $root.Values.podSecurityContext | nindent 8 }}
      {{- with $v.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ $c }}
          image: {{ include "prevention.image" . | quote }}
          imagePullPolicy: {{ include "prevention.imagePullPolicy" . }}
          command: ["python", "-m", {{ ternary "gateway" (printf "services.%s" $c) $isGateway | quote }}]
          ports:
            - name: {{ ternary "http" "grpc" $isGateway }}
              containerPort: {{ $v.containerPort }}
              protocol: TCP
          envFrom:
            - configMapRef:
                name: {{ include "prevention.fullname" $root }}-config
          env:
            - name: OTEL_SERVICE_NAME
              value: {{ $c | quote }}
            {{- if not $isGateway }}
            ## The service binds its own address on every interface; callers use the Service name.
            - name: PREVENTION_{{ upper $c }}_ADDR
              value: {{ printf "[::]:%v" $v.containerPort | quote }}
            - name: PREVENTION_{{ upper $c }}_DATABASE_URL
              valueFrom:
                secretKeyRef:
                  name: {{ include "prevention.databaseSecretName" . }}
                  key: {{ (get $root.Values.externalDatabase.services $c).urlKey }}
            {{- if $root.Values.externalS3.enabled }}
            - name: PREVENTION_S3_ACCESS_KEY
              valueFrom:
                secretKeyRef:
                  name: {{ $root.Values.externalS3.existingSecret }}
                  key: {{ $root.Values.externalS3.accessKeyKey }}
            - name: PREVENTION_S3_SECRET_KEY
              valueFrom:
                secretKeyRef:
                  name: {{ $root.Values.externalS3.existingSecret }}
                  key: {{ $root.Values.externalS3.secretKeyKey }}
            {{- end }}
            - name: PREVENTION_PII_KEYS
              valueFrom:
                secretKeyRef:
                  name: {{ $root.Values.pii.existingSecret }}
                  key: {{ $root.Values.pii.keysKey }}
            {{- end }}
            {{- if eq $c "identity" }}
            - name: PREVENTION_KEYCLOAK_ADMIN_CLIENT_SECRET
              valueFrom:
                secretKeyRef:
                  name: {{ $root.Values.keycloak.existingSecret }}
                  key: {{ $root.Values.keycloak.clientSecretKey }}
            {{- end }}
            {{- if $root.Values.mtls.enabled }}
            - name: PREVENTION_TLS_CERT_FILE
              value: /etc/prevention/tls/tls.crt
            - name: PREVENTION_TLS_KEY_FILE
              value: /etc/prevention/tls/tls.key
            - name: PREVENTION_TLS_CA_FILE
              value: /etc/prevention/tls/ca.crt
            {{- if not $isGateway }}
            # Kubelet's gRPC probes cannot present a client certificate: health only, in plaintext.
            - name: PREVENTION_HEALTH_PORT
              value: {{ $root.Values.mtls.healthPort | quote }}
            {{- end }}
            {{- end }}
            {{- with $v.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          {{- with $v.probes }}
          {{- $grpcProbePort := ternary (int $root.Values.mtls.healthPort) (int $v.containerPort) (and $root.Values.mtls.enabled (not $isGateway)) }}
          {{- $probe := ternary (dict "httpGet" (dict "path" "/healthz" "port" "http")) (dict "grpc" (dict "port" $grpcProbePort)) $isGateway }}
          {{- $ready := ternary (dict "httpGet" (dict "path" "/readyz" "port" "http")) (dict "grpc" (dict "port" $grpcProbePort)) $isGateway }}
          {{- if .startup.enabled }}
          startupProbe:
            {{- toYaml (merge (omit .startup "enabled") $probe) | nindent 12 }}
          {{- end }}
          {{- if .readiness.enabled }}
          readinessProbe:
            {{- toYaml (merge (omit .readiness "enabled") $ready) | nindent 12 }}
          {{- end }}
          {{- if .liveness.enabled }}
          livenessProbe:
            {{- toYaml (merge (omit .liveness "enabled") $probe) | nindent 12 }}
          {{- end }}
          {{- end }}
          resources:
            {{- toYaml $v.resources | nindent 12 }}
          securityContext:
            {{- toYaml $root.Values.containerSecurityContext | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            - name: data
              mountPath: /var/lib/prevention
            {{- if $root.Values.mtls.enabled }}
            - name: tls
              mountPath: /etc/prevention/tls
              readOnly: true
            {{- end }}
            {{- if $v.serviceAccount.kubernetesApi }}
            - name: kube-api-access
              mountPath: /var/run/secrets/kubernetes.io/serviceaccount
              readOnly: true
            {{- end }}
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: 256Mi
        - name: data
          emptyDir:
            sizeLimit: 1Gi
        {{- if $root.Values.mtls.enabled }}
        - name: tls
          secret:
            secretName: {{ printf $root.Values.mtls.secretTemplate $c }}
            defaultMode: 0440
        {{- end }}
        {{- if $v.serviceAccount.kubernetesApi }}
        - name: kube-api-access
          projected:
            defaultMode: 0440
            sources:
              - serviceAccountToken:
                  path: token
                  expirationSeconds: 3607
              - configMap:
                  name: kube-root-ca.crt
                  items:
                    - key: ca.crt
                      path: ca.crt
              - downwardAPI:
                  items:
                    - path: namespace
                      fieldRef:
                        fieldPath: metadata.namespace
        {{- end }}
{{- end -}}

{{/* ---------------------------------------------------------------- Service */}}
{{- define "prevention.service" -}}
{{- $isGateway := eq .component "gateway" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "prevention.componentName" . }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "prevention.labels" . | nindent 4 }}
spec:
  type: ClusterIP
  selector:
    {{- include "prevention.selectorLabels" . | nindent 4 }}
  ports:
    - name: {{ ternary "http" "grpc" $isGateway }}
      port: {{ .values.service.port }}
      targetPort: {{ ternary "http" "grpc" $isGateway }}
      protocol: TCP
      {{- if not $isGateway }}
      appProtocol: grpc
      {{- end }}
{{- end -}}

{{/* ---------------------------------------------------------------- ServiceAccount (+ Lease RBAC) */}}
{{- define "prevention.serviceaccount" -}}
{{- if .values.serviceAccount.create -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "prevention.serviceAccountName" . }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "prevention.labels" . | nindent 4 }}
automountServiceAccountToken: false
{{- if .values.serviceAccount.kubernetesApi }}
---
## Leader election for scheduled work (OPS-3): Leases only, in this namespace.
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: {{ include "prevention.componentName" . }}-leases
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "prevention.labels" . | nindent 4 }}
rules:
  - apiGroups: ["coordination.k8s.io"]
    resources: ["leases"]
    verbs: ["get", "create", "update"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {{ include "prevention.componentName" . }}-leases
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "prevention.labels" . | nindent 4 }}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: {{ include "prevention.componentName" . }}-leases
subjects:
  - kind: ServiceAccount
    name: {{ include "prevention.serviceAccountName" . }}
    namespace: {{ .root.Release.Namespace }}
{{- end }}
{{- end }}
{{- end -}}

{{/* ---------------------------------------------------------------- HPA */}}
{{- define "prevention.hpa" -}}
{{- if .values.autoscaling.enabled -}}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "prevention.componentName" . }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "prevention.labels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "prevention.componentName" . }}
  minReplicas: {{ .values.autoscaling.minReplicas }}
  maxReplicas: {{ .values.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ .values.autoscaling.targetCPUUtilizationPercentage }}
{{- end }}
{{- end -}}

{{/* ---------------------------------------------------------------- PDB */}}
{{- define "prevention.pdb" -}}
{{- if .values.pdb.create -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "prevention.componentName" . }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "prevention.labels" . | nindent 4 }}
spec:
  maxUnavailable: {{ .values.pdb.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "prevention.selectorLabels" . | nindent 6 }}
{{- end }}
{{- end -}}

{{/* ---------------------------------------------------------------- NetworkPolicy (SPEC 7.1) */}}
{{- define "prevention.peer" -}}
- podSelector:
    matchLabels:
      {{- include "prevention.selectorLabels" . | nindent 6 }}
{{- end -}}

{{- define "prevention.networkpolicy" -}}
{{- if .root.Values.networkPolicy.enabled -}}
{{- $root := .root -}}
{{- $c := .component -}}
{{- $np := $root.Values.networkPolicy -}}
{{- $callers := include "prevention.callers" $root | fromYaml -}}
{{- $isGateway := eq $c "gateway" -}}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ include "prevention.componentName" . }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "prevention.labels" . | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "prevention.selectorLabels" . | nindent 6 }}
  policyTypes: [Ingress, Egress]
  ingress:
    {{- $from := get $callers $c }}
    {{- if or $from $isGateway (eq $c "training") }}
    - from:
        {{- range $from }}
        {{- include "prevention.peer" (dict "root" $root "component" .) | nindent 8 }}
        {{- end }}
        {{- if or $isGateway (eq $c "training") }}
        ## The Ingress controller (HTTPS for the gateway; the `grpc` host for training).
        - namespaceSelector:
            {{- toYaml $np.ingressController.namespaceSelector | nindent 12 }}
          podSelector:
            {{- toYaml $np.ingressController.podSelector | nindent 12 }}
        {{- end }}
        {{- if $isGateway }}
        ## `helm test`: the test pod checks /readyz.
        {{- include "prevention.peer" (dict "root" $root "component" "test") | nindent 8 }}
        {{- end }}
      ports:
        - port: {{ .values.containerPort }}
          protocol: TCP
    {{- end }}
  egress:
    - to:
        {{- toYaml $np.egress.dns.to | nindent 8 }}
      ports:
        {{- toYaml $np.egress.dns.ports | nindent 8 }}
    - to:
        {{- toYaml $np.egress.tokenIssuer.to | nindent 8 }}
      ports:
        {{- toYaml $np.egress.tokenIssuer.ports | nindent 8 }}
    {{- if $root.Values.otel.endpoint }}
    - to:
        {{- toYaml $np.egress.otelCollector.to | nindent 8 }}
      ports:
        {{- toYaml $np.egress.otelCollector.ports | nindent 8 }}
    {{- end }}
    {{- if not $isGateway }}
    {{- if $root.Values.externalDatabase.enabled }}
    - to:
        {{- toYaml $np.egress.database.to | nindent 8 }}
      ports:
        {{- toYaml $np.egress.database.ports | nindent 8 }}
    {{- end }}
    {{- if $root.Values.externalS3.enabled }}
    - to:
        {{- toYaml $np.egress.objectStorage.to | nindent 8 }}
      ports:
        {{- toYaml $np.egress.objectStorage.ports | nindent 8 }}
    {{- end }}
    {{- end }}
    {{- if .values.serviceAccount.kubernetesApi }}
    - to:
        {{- toYaml $np.egress.kubernetesApi.to | nindent 8 }}
      ports:
        {{- toYaml $np.egress.kubernetesApi.ports | nindent 8 }}
    {{- end }}
    {{- range $callee := splitList " " (include "prevention.services" $root) }}
    {{- if has $c (get $callers $callee) }}
    - to:
        {{- include "prevention.peer" (dict "root" $root "component" $callee) | nindent 8 }}
      ports:
        - port: {{ (get $root.Values $callee).containerPort }}
          protocol: TCP
    {{- end }}
    {{- end }}
{{- end }}
{{- end -}}
