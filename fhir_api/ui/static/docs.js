// Swagger UI over this server's OpenAPI description; every asset is local (no validator, no CDN).
(function () {
  "use strict";
  var target = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: target.getAttribute("data-openapi-url"),
    dom_id: "#swagger-ui",
    validatorUrl: null,
    deepLinking: false,
    layout: "BaseLayout",
    presets: [SwaggerUIBundle.presets.apis],
    showExtensions: true,
    tryItOutEnabled: false
  });
})();
