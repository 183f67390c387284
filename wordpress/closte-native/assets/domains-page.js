/**
 * Closte Domains (Network Admin > Settings): runs a row's action, or a bulk action, through
 * admin-ajax and shows the result in place: the rows it touched are replaced by the server's
 * fresh copies, the message and the log lines appear in the status region, the view counts
 * follow. Loaded on that page only. Without it every action is a plain link or form to
 * admin-post.php with the same checks, and the results are shown after the redirect.
 */
(function () {
	'use strict';

	var root = document.getElementById('closte-native-domains');
	var form = document.getElementById('closte-native-domains-form');
	var region = document.getElementById('closte-native-domains-results');
	if (!root || !form || !region) {
		return;
	}
	var busy = false;

	function field(name) {
		var input = form.querySelector('input[name="' + name + '"]');
		return input ? input.value : '';
	}

	/** A notice for one result: its message and the log lines it wrote, as text. */
	function notice(ok, message, name, lines) {
		var box = document.createElement('div');
		box.className = 'notice ' + (ok ? 'notice-success' : 'notice-error') + ' closte-native-domains-result';
		if (name) {
			box.setAttribute('data-name', name);
		}
		var p = document.createElement('p');
		p.textContent = message;
		box.appendChild(p);
		if (lines && lines.length) {
			var list = document.createElement('ul');
			list.className = 'closte-native-log-lines';
			lines.forEach(function (line) {
				var item = document.createElement('li');
				var code = document.createElement('code');
				code.textContent = line;
				item.appendChild(code);
				list.appendChild(item);
			});
			box.appendChild(list);
		}
		return box;
	}

	function rowOf(name) {
		var rows = form.querySelectorAll('tbody tr[data-name]');
		for (var i = 0; i < rows.length; i++) {
			if (rows[i].getAttribute('data-name') === name) {
				return rows[i];
			}
		}
		return null;
	}

	function setBusy(names, on) {
		busy = on;
		root.classList.toggle('closte-native-busy', on);
		names.forEach(function (name) {
			var row = rowOf(name);
			if (row) {
				row.setAttribute('aria-busy', on ? 'true' : 'false');
			}
		});
	}

	/** The server's copy of a row in place of the old one; true when it was there. */
	function replaceRow(name, html) {
		var old = rowOf(name);
		if (!old || !html) {
			return null;
		}
		var template = document.createElement('template');
		template.innerHTML = html.trim();
		var fresh = template.content.firstElementChild;
		if (!fresh) {
			return null;
		}
		if (old.classList.contains('is-expanded')) {
			fresh.classList.add('is-expanded');
		}
		old.parentNode.replaceChild(fresh, old);
		return fresh;
	}

	function updateCounts(counts) {
		Object.keys(counts || {}).forEach(function (view) {
			root.querySelectorAll('.closte-native-count[data-view="' + view + '"]').forEach(function (count) {
				count.textContent = String(counts[view]);
			});
		});
	}

	/**
	 * Runs `action` on `names`; `focusAction` is the row action to give the focus back to (the
	 * link the keyboard user pressed is replaced with its row).
	 */
	function run(action, names, focusAction) {
		if (busy || !names.length) {
			return;
		}
		var body = new URLSearchParams();
		body.set('action', form.getAttribute('data-ajax-action'));
		body.set('do', action);
		body.set('closte_nonce', field('closte_nonce'));
		['s', 'status', 'orderby', 'order'].forEach(function (name) {
			if (field(name)) {
				body.set(name, field(name));
			}
		});
		names.forEach(function (name) {
			body.append('domains[]', name);
		});
		setBusy(names, true);
		region.textContent = '';
		var working = document.createElement('p');
		working.className = 'closte-native-working';
		working.textContent = root.getAttribute('data-working') || 'Working…';
		region.appendChild(working);

		fetch(form.getAttribute('data-ajax-url'), {method: 'POST', credentials: 'same-origin', body: body})
			.then(function (answer) {
				return answer.json().catch(function () {
					throw new Error('HTTP ' + answer.status);
				});
			})
			.then(function (answer) {
				region.textContent = '';
				if (!answer || !answer.success) {
					region.appendChild(notice(false, (answer && answer.data && answer.data.message) || 'The request failed.', '', []));
					return;
				}
				var focusTarget = null;
				answer.data.results.forEach(function (result) {
					region.appendChild(notice(result.ok, result.message, result.name, result.log));
					var fresh = replaceRow(result.name, result.row);
					if (fresh && !focusTarget && focusAction) {
						focusTarget = fresh.querySelector('a.closte-native-run[data-action="' + focusAction + '"]') ||
							fresh.querySelector('a.closte-native-run, a.closte-native-sync-link');
					}
				});
				updateCounts(answer.data.counts);
				form.querySelectorAll('.check-column input[type="checkbox"]').forEach(function (box) {
					box.checked = false;
				});
				if (focusTarget) {
					focusTarget.focus();
				} else {
					region.focus();
				}
			})
			.catch(function (error) {
				region.textContent = '';
				region.appendChild(notice(false, 'The request failed (' + error.message + '). Reload the page and try again.', '', []));
			})
			.then(function () {
				setBusy(names, false);
			});
	}

	// A row action: a link to admin-post.php without JavaScript; here, in place. Enter on a
	// focused link is a click too.
	form.addEventListener('click', function (event) {
		var link = event.target.closest ? event.target.closest('a.closte-native-run') : null;
		if (!link || !form.contains(link)) {
			return;
		}
		event.preventDefault();
		run(link.getAttribute('data-action'), [link.getAttribute('data-name')], link.getAttribute('data-action'));
	});

	// A bulk action: the ticked rows, in place. Without a bulk action (the page box), the form
	// goes to the server as it is.
	form.addEventListener('submit', function (event) {
		var submitter = event.submitter || document.activeElement;
		var select = submitter && submitter.id === 'doaction2' ? form.querySelector('select[name="bulk_action2"]') : form.querySelector('select[name="bulk_action"]');
		var action = select ? select.value : '-1';
		if (action === '-1' || !submitter || (submitter.id !== 'doaction' && submitter.id !== 'doaction2')) {
			return;
		}
		event.preventDefault();
		var names = [];
		form.querySelectorAll('tbody .check-column input[type="checkbox"]:checked').forEach(function (box) {
			names.push(box.value);
		});
		if (!names.length) {
			region.textContent = '';
			region.appendChild(notice(false, root.getAttribute('data-none-selected') || 'No domain selected.', '', []));
			region.focus();
			return;
		}
		run(action, names, null);
	});
}());
