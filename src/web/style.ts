/** The pages' one stylesheet, served from the pages' own origin (the CSP allows no inline style). */
export const STYLESHEET = `
body { font: 16px/1.5 system-ui, sans-serif; margin: 0; color: #1b1b1b; background: #fafafa; }
header { display: flex; gap: 1em; align-items: center; justify-content: space-between; padding: .6em 1.2em; background: #24364b; color: #fff; }
header a { color: #fff; font-weight: 600; text-decoration: none; }
header nav { display: flex; gap: 1em; align-items: center; }
header form { margin: 0; }
main { max-width: 56em; margin: 1.5em auto; padding: 0 1.2em; }
table { border-collapse: collapse; width: 100%; margin: .5em 0 1em; }
th, td { text-align: left; padding: .35em .6em; border-bottom: 1px solid #ddd; vertical-align: top; }
form.inline { display: inline; }
label { display: block; margin: .6em 0; }
input[type=text], input[type=password], input:not([type]) { font: inherit; padding: .3em .4em; min-width: 18em; }
button { font: inherit; padding: .3em .9em; cursor: pointer; }
.error { color: #a40000; font-weight: 600; }
.state-linked { color: #176117; font-weight: 600; }
.state-needs-reconsent { color: #a40000; font-weight: 600; }
.state-revoked, .state-none { color: #666; }
.warn { border-left: 4px solid #a40000; padding: .4em .8em; background: #fff2f2; }
.secret { border: 2px solid #24364b; padding: .6em 1em; background: #fff; }
.secret code { font-size: 1.4em; letter-spacing: .05em; }
`;
