// Starts Swagger UI on a service's /docs page, from a file rather than an inline script so the
// page's Content-Security-Policy can forbid inline scripts.
const root = document.getElementById("swagger-ui");
window.SwaggerUIBundle({
  url: root.dataset.openapiUrl,
  domNode: root,
  deepLinking: true,
  presets: [window.SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
