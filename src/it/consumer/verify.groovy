// Run after the sample project's build: its tests really ran (a build that ran none would pass too).
def reports = new File(basedir, 'target/surefire-reports')
def suites = reports.listFiles().findAll { it.name.startsWith('TEST-') && it.name.endsWith('.xml') }
assert suites*.name.sort() == ['TEST-HelloVsockTest.xml', 'TEST-RefusedConnectTest.xml']
def count = { File report, String attribute ->
    def suite = (report.getText('UTF-8') =~ /<testsuite [^>]*/)[0]
    (suite =~ /\b${attribute}="(\d+)"/)[0][1] as int
}
def run = suites.sum { count(it, 'tests') }
def bad = suites.sum { count(it, 'failures') + count(it, 'errors') + count(it, 'skipped') }
assert run == 3 : "tests run: $run"
assert bad == 0 : "failed, in error or skipped: $bad"
true
