output "grafana_url_hint" {
  description = "How to open Grafana."
  value       = module.monitoring.grafana_url_hint
}

output "grafana_admin_password" {
  description = "Grafana admin password."
  value       = module.monitoring.grafana_admin_password
  sensitive   = true
}

output "namespaces" {
  description = "Namespaces this environment created."
  value = {
    monitoring = module.monitoring.namespace
    keda       = module.keda.namespace
    app        = "rag (created by kubectl apply -k keda/overlays/prod-example)"
  }
}

output "pushgateway_url" {
  description = "In-cluster Pushgateway URL (Rag__Push__Url)."
  value       = module.monitoring.pushgateway_url
}

output "pushgateway_username" {
  description = "Rag__Push__Username for keda/base/secrets/push.env."
  value       = module.monitoring.pushgateway_username
}

output "pushgateway_password" {
  description = "Rag__Push__Password for keda/base/secrets/push.env."
  value       = module.monitoring.pushgateway_password
  sensitive   = true
}

output "interceptor_proxy_url" {
  description = "Send HTTP queries here with a Host header your InterceptorRoute lists."
  value       = module.keda.interceptor_proxy_url
}

output "rag_budget_settings" {
  description = "Tenants and budgets for the app and the ledger: terraform output -raw rag_budget_settings > keda/overlays/<env>/budgets.env"
  value       = module.monitoring.rag_budget_settings
}
