locals {
  dashboards_dir = var.dashboards_dir != null ? var.dashboards_dir : "${path.module}/../../../dashboards"

  # The rules file is the single source of truth (issue 3); it is rendered here, never copied.
  rag_rules = templatefile("${path.module}/rules/rag-rules.yaml", {
    environment        = var.environment
    daily_budget_usd   = var.daily_budget_usd
    monthly_budget_usd = var.monthly_budget_usd
    burn_rate_hours    = var.burn_rate_hours
    runbook_base_url   = var.runbook_base_url
  })

  grafana_admin_password = var.grafana_admin_password != null ? var.grafana_admin_password : random_password.grafana_admin.result

  # Names the values files refer to; kept here and there so helm never sees a credential.
  grafana_admin_secret          = "grafana-admin"
  pushgateway_web_config_secret = "pushgateway-web-config"
  pushgateway_scrape_secret     = "pushgateway-scrape-auth"
  alertmanager_receivers_secret = "alertmanager-receivers"
}

resource "kubernetes_namespace_v1" "monitoring" {
  metadata {
    name = var.namespace
  }
}

resource "random_password" "grafana_admin" {
  length  = 24
  special = false
}

resource "random_password" "pushgateway" {
  length  = 32
  special = false
}

resource "kubernetes_secret_v1" "grafana_admin" {
  metadata {
    name      = local.grafana_admin_secret
    namespace = kubernetes_namespace_v1.monitoring.metadata[0].name
  }
  data = {
    "admin-user"     = "admin"
    "admin-password" = local.grafana_admin_password
  }
}

# Pushgateway --web.config.file: bcrypt hash only; the clear password goes to the scrape secret and the pods.
resource "kubernetes_secret_v1" "pushgateway_web_config" {
  metadata {
    name      = local.pushgateway_web_config_secret
    namespace = kubernetes_namespace_v1.monitoring.metadata[0].name
  }
  data = {
    "web-config.yaml" = yamlencode({
      basic_auth_users = {
        (var.pushgateway_username) = random_password.pushgateway.bcrypt_hash
      }
    })
  }
}

resource "kubernetes_secret_v1" "pushgateway_scrape_auth" {
  metadata {
    name      = local.pushgateway_scrape_secret
    namespace = kubernetes_namespace_v1.monitoring.metadata[0].name
  }
  data = {
    username = var.pushgateway_username
    password = random_password.pushgateway.result
  }
}

# Mounted by Alertmanager at /etc/alertmanager/secrets/<name>/ and read through url_file/api_url_file.
resource "kubernetes_secret_v1" "alertmanager_receivers" {
  metadata {
    name      = local.alertmanager_receivers_secret
    namespace = kubernetes_namespace_v1.monitoring.metadata[0].name
  }
  data = {
    "webhook-url" = var.alert_webhook_url
    "slack-url"   = var.slack_webhook_url
  }
}

resource "kubernetes_config_map_v1" "dashboard" {
  for_each = fileset(local.dashboards_dir, "*.json")

  metadata {
    name      = "rag-dashboard-${lower(trimsuffix(each.value, ".json"))}"
    namespace = kubernetes_namespace_v1.monitoring.metadata[0].name
    labels = {
      grafana_dashboard = "1"
    }
    annotations = {
      # Key configured as grafana.sidecar.dashboards.folderAnnotation in values/kube-prometheus-stack.yaml.
      grafana_folder = var.grafana_folder
    }
  }
  data = {
    (each.value) = file("${local.dashboards_dir}/${each.value}")
  }
}

resource "helm_release" "kube_prometheus_stack" {
  name       = "prometheus"
  repository = "https://prometheus-community.github.io/helm-charts"
  chart      = "kube-prometheus-stack"
  version    = "88.5.3"
  namespace  = kubernetes_namespace_v1.monitoring.metadata[0].name
  timeout    = 900

  values = [
    file("${path.module}/values/kube-prometheus-stack.yaml"),
    yamlencode({
      additionalPrometheusRulesMap = {
        "rag-rules" = yamldecode(local.rag_rules)
      }
    }),
  ]

  set = [
    {
      name  = "grafana.service.type"
      value = var.grafana_service_type
    },
    {
      name  = "grafana.admin.existingSecret"
      value = kubernetes_secret_v1.grafana_admin.metadata[0].name
    },
    {
      name  = "alertmanager.alertmanagerSpec.secrets[0]"
      value = kubernetes_secret_v1.alertmanager_receivers.metadata[0].name
    },
    {
      name  = "alertmanager.config.receivers[2].slack_configs[0].channel"
      value = var.slack_channel
    },
    {
      name  = "prometheus.prometheusSpec.storageSpec.volumeClaimTemplate.spec.resources.requests.storage"
      value = var.prometheus_storage_size
    },
    {
      # With 40d retention alone a small volume fills up; past this size the oldest blocks go first.
      name  = "prometheus.prometheusSpec.retentionSize"
      value = var.prometheus_retention_size
    },
    {
      name  = "prometheus.additionalPodMonitors[0].namespaceSelector.matchNames[0]"
      value = var.keda_namespace
    },
    {
      name  = "prometheus.additionalPodMonitors[1].namespaceSelector.matchNames[0]"
      value = var.app_namespace
    },
  ]
}

resource "helm_release" "pushgateway" {
  name       = "prometheus-pushgateway"
  repository = "https://prometheus-community.github.io/helm-charts"
  chart      = "prometheus-pushgateway"
  version    = "3.8.0"
  namespace  = kubernetes_namespace_v1.monitoring.metadata[0].name

  values = [file("${path.module}/values/prometheus-pushgateway.yaml")]

  set = [
    {
      name  = "serviceMonitor.namespace"
      value = kubernetes_namespace_v1.monitoring.metadata[0].name
    },
    {
      name  = "webConfiguration.existingSecret.name"
      value = kubernetes_secret_v1.pushgateway_web_config.metadata[0].name
    },
    {
      name  = "serviceMonitor.basicAuth.username.name"
      value = kubernetes_secret_v1.pushgateway_scrape_auth.metadata[0].name
    },
    {
      name  = "serviceMonitor.basicAuth.password.name"
      value = kubernetes_secret_v1.pushgateway_scrape_auth.metadata[0].name
    },
    {
      name  = "networkPolicy.customSelectors[0].namespaceSelector.matchLabels.kubernetes\\.io/metadata\\.name"
      value = var.app_namespace
    },
    {
      name  = "networkPolicy.customSelectors[1].namespaceSelector.matchLabels.kubernetes\\.io/metadata\\.name"
      value = kubernetes_namespace_v1.monitoring.metadata[0].name
    },
  ]

  # The ServiceMonitor kind comes from the stack's CRDs.
  depends_on = [helm_release.kube_prometheus_stack]
}

locals {
  # The budget settings the app and the ledger both read (Rag:Tenants, Rag:Budgets), as env lines for the overlay's
  # budgets.env: `terraform output -raw rag_budget_settings > keda/overlays/<env>/budgets.env`. The global hard limits
  # are the same daily_budget_usd / monthly_budget_usd the DailyBudgetExceeded and MonthlyBudgetExceeded rules use.
  tenant_budget_settings = flatten([
    for i, t in var.tenants : concat(
      t.key_name == null ? [] : ["Rag__Tenants__${i}__KeyName=${t.key_name}"],
      ["Rag__Tenants__${i}__Name=${t.name}"],
      [for key, usd in {
        Daily__Soft   = t.daily_soft_usd
        Daily__Hard   = t.daily_hard_usd
        Monthly__Soft = t.monthly_soft_usd
        Monthly__Hard = t.monthly_hard_usd
      } : "Rag__Tenants__${i}__${key}=${usd}" if usd != null],
    )
  ])
  budget_settings = concat(local.tenant_budget_settings, [
    "Rag__Budgets__Daily__Soft=${var.daily_budget_usd * var.budget_soft_fraction}",
    "Rag__Budgets__Daily__Hard=${var.daily_budget_usd}",
    "Rag__Budgets__Monthly__Soft=${var.monthly_budget_usd * var.budget_soft_fraction}",
    "Rag__Budgets__Monthly__Hard=${var.monthly_budget_usd}",
  ])
}
