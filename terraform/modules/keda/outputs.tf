output "namespace" {
  description = "Namespace of KEDA and the HTTP add-on."
  value       = helm_release.keda.namespace
}

output "interceptor_proxy_url" {
  description = "In-cluster URL of the HTTP add-on's interceptor; send requests with a Host header the InterceptorRoute lists."
  value       = "http://keda-add-ons-http-interceptor-proxy.${helm_release.keda.namespace}.svc:8080"
}

output "external_scaler_address" {
  description = "scalerAddress for external-push triggers (keda/base/query-scaledobject.yaml)."
  value       = "keda-add-ons-http-external-scaler.${helm_release.keda.namespace}:9090"
}
