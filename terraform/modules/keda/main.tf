resource "helm_release" "keda" {
  name             = "keda"
  repository       = "https://kedacore.github.io/charts"
  chart            = "keda"
  version          = "2.20.2"
  namespace        = var.namespace
  create_namespace = true

  values = [file("${path.module}/values/keda.yaml")]
}

resource "helm_release" "http_add_on" {
  # Release name = chart name, so the scaler Service is keda-add-ons-http-external-scaler as keda/ expects.
  name       = "keda-add-ons-http"
  repository = "https://kedacore.github.io/charts"
  chart      = "keda-add-ons-http"
  version    = "0.15.0"
  namespace  = helm_release.keda.namespace

  # Its scaler's /metrics (:2223, on by default) is scraped by a PodMonitor the monitoring module defines.
  set = [
    {
      name  = "interceptor.replicas.min"
      value = tostring(var.interceptor_min_replicas)
    },
    {
      name  = "scaler.replicas"
      value = tostring(var.scaler_replicas)
    },
  ]

  # ScaledObject and the external-push scaler protocol come from KEDA itself.
  depends_on = [helm_release.keda]
}
