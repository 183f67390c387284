/**
 * Closte Sync (Network Admin > Settings): follows a queued or running sync in place and keeps
 * the typed confirmation of ticked unowned aliases in step with the ticks. Loaded on that page
 * only. Without it the page still works: a Refresh link, and the server checks every phrase.
 */
(function () {
	'use strict';

	var root = document.getElementById('closte-native-sync');
	if (!root) {
		return;
	}
	var timer = null;

	/** The page as the server renders it now, swapped into this one (no navigation). */
	function replaceContent(url) {
		fetch(url, {credentials: 'same-origin'})
			.then(function (answer) {
				if (!answer.ok) {
					throw new Error('HTTP ' + answer.status);
				}
				return answer.text();
			})
			.then(function (html) {
				var fresh = new DOMParser().parseFromString(html, 'text/html').getElementById('closte-native-sync');
				if (!fresh) {
					throw new Error('no sync page in the answer');
				}
				root.innerHTML = fresh.innerHTML;
				var heading = root.querySelector('h2, .closte-native-sync-report, .closte-native-sync-error');
				if (heading) {
					heading.setAttribute('tabindex', '-1');
					heading.focus();
				}
				start();
			})
			.catch(function () {
				window.location.reload();
			});
	}

	function poll() {
		var region = document.getElementById('closte-native-sync-progress');
		if (!region) {
			return;
		}
		var body = new URLSearchParams();
		body.set('action', 'closte_native_sync_status');
		body.set('nonce', region.getAttribute('data-nonce'));
		fetch(region.getAttribute('data-poll-url'), {method: 'POST', credentials: 'same-origin', body: body})
			.then(function (answer) {
				return answer.json();
			})
			.then(function (answer) {
				if (!answer || !answer.success) {
					// Logged out or the nonce expired: the Refresh link still works.
					var text = region.querySelector('.closte-native-sync-progress-text');
					if (text && answer && answer.data && answer.data.message) {
						text.textContent = answer.data.message;
					}
					return;
				}
				var state = answer.data;
				if (!state.busy) {
					replaceContent(region.getAttribute('data-page-url'));
					return;
				}
				var line = region.querySelector('.closte-native-sync-progress-text');
				if (line && line.textContent !== state.text) {
					line.textContent = state.text;
				}
				region.setAttribute('data-status', state.status);
				var cancel = document.getElementById('closte-native-sync-cancel');
				if (cancel && !state.cancellable) {
					cancel.hidden = true;
				}
				schedule(region);
			})
			.catch(function () {
				schedule(region);
			});
	}

	function schedule(region) {
		window.clearTimeout(timer);
		timer = window.setTimeout(poll, parseInt(region.getAttribute('data-interval'), 10) || 2000);
	}

	function start() {
		var region = document.getElementById('closte-native-sync-progress');
		if (region) {
			schedule(region);
		}
	}

	/** Ticking unowned aliases: their phrase becomes required, and its label names the exact phrase. */
	root.addEventListener('change', function (event) {
		if (!event.target.classList || !event.target.classList.contains('closte-native-unowned-box')) {
			return;
		}
		var field = document.getElementById('closte-native-unowned-typed');
		var label = document.getElementById('closte-native-unowned-typed-label');
		if (!field || !label) {
			return;
		}
		var ticked = root.querySelectorAll('.closte-native-unowned-box:checked').length;
		var labels = JSON.parse(field.getAttribute('data-labels') || '{}');
		if (!label.hasAttribute('data-untouched')) {
			label.setAttribute('data-untouched', label.textContent);
		}
		label.textContent = ticked > 0 && labels[ticked] ? labels[ticked] : label.getAttribute('data-untouched');
		field.required = ticked > 0;
	});

	start();
}());
