/**
 * `/docs/events`: the AsyncAPI React component's standalone bundle, served by the app itself
 * (no CDN), rendering `/asyncapi.json`.
 */
export const EVENTS_PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Events: the Socket.IO contract</title>
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="/docs/events/asyncapi-ui.css" />
  </head>
  <body>
    <div id="asyncapi"></div>
    <script src="/docs/events/asyncapi-ui.js"></script>
    <script>
      AsyncApiStandalone.render(
        {
          schema: { url: '/asyncapi.json', options: { method: 'GET' } },
          config: { show: { sidebar: true }, sidebar: { showOperations: 'byDefault' } },
        },
        document.getElementById('asyncapi'),
      );
    </script>
  </body>
</html>
`;
