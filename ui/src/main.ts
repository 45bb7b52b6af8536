// Entry point: mounts the app shell into index.html; a failure to start is shown, not a blank window.
import { mount } from 'svelte';
import App from './App.svelte';
import './app.css';

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');

function showFatal(what: unknown) {
  const pre = document.createElement('pre');
  pre.setAttribute('role', 'alert');
  pre.style.cssText = 'margin:24px;padding:16px;white-space:pre-wrap;color:#b3261e;';
  pre.textContent = `Imagesmith could not start its window:\n${what instanceof Error ? `${what.message}\n${what.stack ?? ''}` : String(what)}`;
  document.body.append(pre);
}

window.addEventListener('error', (e) => showFatal(e.error ?? e.message));
window.addEventListener('unhandledrejection', (e) => showFatal(e.reason));

let app: ReturnType<typeof mount> | undefined;
try {
  app = mount(App, { target });
} catch (e) {
  showFatal(e);
}
export default app;
