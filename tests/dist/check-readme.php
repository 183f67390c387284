<?php
/**
 * Checks a plugin folder's readme.txt against the WordPress plugin readme standard (as
 * wordpress.org's readme parser reads it: its known headers, the 150-character short
 * description, its sections and their word limits, at most 5 tags) and against the plugin's own
 * header. There is no network here for wordpress.org's validator, so this is ours: stricter
 * where the parser only warns (an unknown header, a trimmed field, a missing section is an error).
 *
 * Usage: php -n tests/dist/check-readme.php PLUGIN_DIR   (exit 0 when it passes; every problem
 * on its own line otherwise)
 */

declare(strict_types=1);

$dir = $argv[1] ?? '';
if ('' === $dir || ! is_file("$dir/readme.txt") || ! is_file("$dir/closte-native.php")) {
	fwrite(STDERR, "usage: php tests/dist/check-readme.php PLUGIN_DIR (holding readme.txt and closte-native.php)\n");
	exit(2);
}

/** Characters of a UTF-8 string (php -n has no mbstring). */
function chars(string $text): int {
	return (int) preg_match_all('/./us', $text);
}

$errors = [];
$fail   = static function (string $message) use (&$errors): void {
	$errors[] = $message;
};

// ---------------------------------------------------------------- the plugin's header
$php = (string) file_get_contents("$dir/closte-native.php");
$plugin_header = static function (string $name) use ($php): ?string {
	// As WordPress's get_file_data(): "Name: value" in the first comment, any leading " * ".
	return preg_match('/^[ \t\/*#@]*' . preg_quote($name, '/') . ':(.*)$/mi', substr($php, 0, 8192), $m) ? trim($m[1]) : null;
};
$plugin = [];
foreach (['Plugin Name', 'Version', 'Requires at least', 'Requires PHP', 'License', 'Text Domain', 'Domain Path', 'Network'] as $name) {
	$plugin[ $name ] = $plugin_header($name);
	if (null === $plugin[ $name ] || '' === $plugin[ $name ]) {
		$fail("closte-native.php: no '$name:' header");
	}
}
$constant = preg_match("/define\\('CLOSTE_NATIVE_VERSION', '([^']*)'\\)/", $php, $m) ? $m[1] : null;
if ($constant !== $plugin['Version']) {
	$fail("closte-native.php: CLOSTE_NATIVE_VERSION '" . ($constant ?? 'missing') . "' differs from Version: '{$plugin['Version']}'");
}
if ('closte-native' !== $plugin['Text Domain']) {
	$fail("closte-native.php: Text Domain: must be the folder's name closte-native, not '{$plugin['Text Domain']}'");
}
if ('true' !== strtolower((string) $plugin['Network'])) {
	$fail('closte-native.php: Network: true is missing (the plugin is network-only)');
}

// ---------------------------------------------------------------- readme.txt: name and headers
$text = (string) file_get_contents("$dir/readme.txt");
if (! preg_match('//u', $text)) {
	$fail('readme.txt: not UTF-8');
}
if (str_starts_with($text, "\xEF\xBB\xBF")) {
	$fail('readme.txt: starts with a byte order mark');
}
if (str_contains($text, "\r")) {
	$fail('readme.txt: carriage returns (use LF line ends)');
}
$lines = explode("\n", $text);
if (! preg_match('/^=== (.+) ===$/', $lines[0], $m)) {
	$fail("readme.txt: the first line must be '=== Plugin Name ===', not '{$lines[0]}'");
} elseif ($m[1] !== $plugin['Plugin Name']) {
	$fail("readme.txt: name '{$m[1]}' differs from the plugin's Plugin Name: '{$plugin['Plugin Name']}'");
}

// The headers wordpress.org's parser knows (lower case, as it compares them); any other is
// ignored there, or ends the headers early, so here it is an error. "Requires Plugins" belongs
// in the plugin's PHP header (WordPress 6.5+), not in readme.txt.
$known = [
	'contributors'      => 'Contributors',
	'donate link'       => 'Donate link',
	'tags'              => 'Tags',
	'requires at least' => 'Requires at least',
	'tested up to'      => 'Tested up to',
	'requires php'      => 'Requires PHP',
	'stable tag'        => 'Stable tag',
	'license'           => 'License',
	'license uri'       => 'License URI',
];
$required = ['contributors', 'tags', 'requires at least', 'tested up to', 'requires php', 'stable tag', 'license', 'license uri'];
$headers  = [];
$i        = 1;
for (; $i < count($lines) && '' !== trim($lines[ $i ]); $i++) {
	if (! preg_match('/^([^:]+):\s*(.*)$/', $lines[ $i ], $m)) {
		$fail('readme.txt line ' . ($i + 1) . ": not a 'Header: value' line in the headers: '{$lines[$i]}'");
		continue;
	}
	$key = strtolower(trim($m[1]));
	if (! isset($known[ $key ])) {
		$fail('readme.txt line ' . ($i + 1) . ": unknown header '" . trim($m[1]) . "' (known: " . implode(', ', $known) . ')');
		continue;
	}
	if ($known[ $key ] !== trim($m[1])) {
		$fail('readme.txt line ' . ($i + 1) . ": header '" . trim($m[1]) . "' is spelled '{$known[$key]}' in the standard");
	}
	if (isset($headers[ $key ])) {
		$fail("readme.txt: header '{$known[$key]}' given twice");
	}
	$headers[ $key ] = trim($m[2]);
}
foreach ($required as $key) {
	if ('' === ($headers[ $key ] ?? '')) {
		$fail("readme.txt: header '{$known[$key]}' is missing or empty");
	}
}
$version_pattern = '/^\d+\.\d+(\.\d+)?$/';
foreach (['requires at least', 'tested up to', 'requires php', 'stable tag'] as $key) {
	if (isset($headers[ $key ]) && ! preg_match($version_pattern, $headers[ $key ])) {
		$fail("readme.txt: {$known[$key]}: '{$headers[$key]}' is not a version number");
	}
}
if (($headers['stable tag'] ?? null) !== $plugin['Version']) {
	$fail("readme.txt: Stable tag: '" . ($headers['stable tag'] ?? '') . "' differs from the plugin's Version: '{$plugin['Version']}'");
}
if (($headers['requires at least'] ?? null) !== $plugin['Requires at least']) {
	$fail("readme.txt: Requires at least: '" . ($headers['requires at least'] ?? '') . "' differs from the plugin's '{$plugin['Requires at least']}'");
}
if (($headers['requires php'] ?? null) !== $plugin['Requires PHP']) {
	$fail("readme.txt: Requires PHP: '" . ($headers['requires php'] ?? '') . "' differs from the plugin's '{$plugin['Requires PHP']}'");
}
if (isset($headers['tested up to'], $headers['requires at least']) && version_compare($headers['tested up to'], $headers['requires at least'], '<')) {
	$fail("readme.txt: Tested up to: {$headers['tested up to']} is below Requires at least: {$headers['requires at least']}");
}
if (isset($headers['license']) && ! preg_match('/GPL/i', $headers['license'])) {
	$fail("readme.txt: License: '{$headers['license']}' is not a GPL licence (the directory accepts GPL-compatible code)");
}
if (isset($headers['license uri']) && ! preg_match('#^https://\S+$#', $headers['license uri'])) {
	$fail("readme.txt: License URI: '{$headers['license uri']}' is not an https URL");
}
$tags = array_values(array_filter(array_map('trim', explode(',', $headers['tags'] ?? ''))));
if (count($tags) > 5) {
	$fail('readme.txt: ' . count($tags) . ' tags; the directory shows 5 (' . implode(', ', array_slice($tags, 5)) . ' would be dropped)');
}
foreach (array_intersect(array_map('strtolower', $tags), ['plugin', 'wordpress']) as $tag) {
	$fail("readme.txt: the tag '$tag' is ignored by the directory");
}

// ---------------------------------------------------------------- short description
for (; $i < count($lines) && '' === trim($lines[ $i ]); $i++) {
}
$short = '';
for (; $i < count($lines) && '' !== trim($lines[ $i ]) && ! str_starts_with(trim($lines[ $i ]), '=='); $i++) {
	$short .= ('' === $short ? '' : ' ') . trim($lines[ $i ]);
}
if ('' === $short) {
	$fail('readme.txt: no short description after the headers');
} elseif (chars($short) > 150) {
	$fail('readme.txt: the short description has ' . chars($short) . ' characters; the directory cuts it at 150');
}
if (preg_match('/[<>`*_\[\]#]/', $short)) {
	$fail("readme.txt: the short description holds markup (none is allowed there): '$short'");
}

// ---------------------------------------------------------------- sections
$sections = [];
$current  = null;
for (; $i < count($lines); $i++) {
	if (preg_match('/^== (.+) ==$/', $lines[ $i ], $m)) {
		$current = $m[1];
		if (isset($sections[ $current ])) {
			$fail("readme.txt: section '$current' appears twice");
		}
		$sections[ $current ] = '';
		continue;
	}
	if (null === $current) {
		if ('' !== trim($lines[ $i ])) {
			$fail('readme.txt line ' . ($i + 1) . ': text between the short description and the first section');
		}
		continue;
	}
	$sections[ $current ] .= $lines[ $i ] . "\n";
}
$expected = ['Description', 'Installation', 'Frequently Asked Questions', 'Changelog', 'Upgrade Notice'];
foreach ($expected as $name) {
	if ('' === trim($sections[ $name ] ?? '')) {
		$fail("readme.txt: section '== $name ==' is missing or empty");
	}
}
$order = array_values(array_intersect(array_keys($sections), $expected));
if ($order !== array_values(array_intersect($expected, array_keys($sections)))) {
	$fail('readme.txt: sections out of the standard order (' . implode(', ', $expected) . '): ' . implode(', ', $order));
}
foreach ($sections as $name => $body) {
	$limit = in_array($name, ['Changelog', 'Frequently Asked Questions'], true) ? 5000 : 2500;
	$words = count(preg_split('/\s+/u', trim($body), -1, PREG_SPLIT_NO_EMPTY));
	if ($words > $limit) {
		$fail("readme.txt: section '$name' has $words words; the directory cuts it at $limit");
	}
}
// The FAQ as the directory shows it: "= Question =" then its answer.
if (isset($sections['Frequently Asked Questions']) && ! preg_match('/^= .+ =$/m', $sections['Frequently Asked Questions'])) {
	$fail("readme.txt: the FAQ has no '= Question =' entries");
}
$stable = preg_quote($headers['stable tag'] ?? "\0", '/');
if (! preg_match("/^= $stable =$/m", $sections['Changelog'] ?? '')) {
	$fail('readme.txt: the Changelog has no entry \'= ' . ($headers['stable tag'] ?? '') . " =' for the Stable tag");
}
if (! preg_match("/^= $stable =\n(.+?)(?=\n= |\\z)/ms", $sections['Upgrade Notice'] ?? '', $m)) {
	$fail('readme.txt: the Upgrade Notice has no entry \'= ' . ($headers['stable tag'] ?? '') . " =' for the Stable tag");
} elseif (chars(trim($m[1])) > 300) {
	$fail('readme.txt: the Upgrade Notice for ' . $headers['stable tag'] . ' has ' . chars(trim($m[1])) . ' characters; WordPress shows 300');
}
// How operators install it: the Upload screen and the zip (what `make dist` builds).
if (! preg_match('/Plugins > Add New > Upload/', $sections['Installation'] ?? '') || ! str_contains($sections['Installation'] ?? '', 'closte-native-')) {
	$fail('readme.txt: the Installation section does not describe uploading closte-native-<version>.zip through Plugins > Add New > Upload');
}

if ($errors) {
	fwrite(STDERR, implode("\n", $errors) . "\n");
	exit(1);
}
echo "readme.txt: headers, versions ({$plugin['Version']}), short description (" . chars($short) . " characters) and sections pass\n";
