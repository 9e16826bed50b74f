// the page's stylesheets: esbuild bundles them into app.css
declare module '*.css';
