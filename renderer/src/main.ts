import './app.css';
import { mount } from 'svelte';
import App from './App.svelte';
import { connect } from './lib/api';

const target = document.getElementById('app');
if (!target) throw new Error('missing #app element');
export default mount(App, { target, props: { api: connect() } });
