import './app.css';
import { mount, unmount } from 'svelte';
import App from './App.svelte';
import NoToken from './screens/NoToken.svelte';
import { connect } from './lib/api';

const target = document.getElementById('app');
if (!target) throw new Error('missing #app element');
const conn = connect();
if (conn.api) {
  const app = mount(App, { target, props: { api: conn.api } });
  conn.ready.catch(() => {
    void unmount(app);
    mount(NoToken, { target, props: { refused: true } });
  });
} else {
  mount(NoToken, { target, props: { refused: false } });
}
