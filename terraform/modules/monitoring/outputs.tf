output "namespace" {
  description = "Namespace of the monitoring stack."
  value       = kubernetes_namespace_v1.monitoring.metadata[0].name
}

output "grafana_url_hint" {
  description = "How to reach Grafana (the Service is ClusterIP unless grafana_service_type says otherwise)."
  value       = "kubectl -n ${kubernetes_namespace_v1.monitoring.metadata[0].name} port-forward svc/prometheus-grafana 3000:80, then open http://localhost:3000 (user admin)"
}

output "grafana_admin_password" {
  description = "Grafana admin password (generated unless grafana_admin_password was set)."
  value       = local.grafana_admin_password
  sensitive   = true
}

output "pushgateway_url" {
  description = "In-cluster Pushgateway URL for Rag__Push__Url."
  value       = "http://${helm_release.pushgateway.name}.${kubernetes_namespace_v1.monitoring.metadata[0].name}.svc:9091"
}

output "pushgateway_username" {
  description = "Basic-auth user for Rag__Push__Username (keda/base/secrets/push.env)."
  value       = var.pushgateway_username
}

output "pushgateway_password" {
  description = "Basic-auth password for Rag__Push__Password (keda/base/secrets/push.env)."
  value       = random_password.pushgateway.result
  sensitive   = true
}

output "rag_budget_settings" {
  description = "Tenants and budgets as env lines (Rag__Tenants__*, Rag__Budgets__*) for keda/overlays/<env>/budgets.env, read by the app and the ledger."
  value       = join("\n", concat(local.budget_settings, [""]))
}
