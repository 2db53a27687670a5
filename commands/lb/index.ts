import { Option } from '@commander-js/extra-typings';
import { ExitCode } from '../../src/errors.js';
import type { Program } from '../shared/global-options.js';
import { type ExitCodeList, helpText } from '../shared/help.js';
import { lazyAction } from '../shared/lazy.js';

const EXIT_CODES: ExitCodeList = [
  [ExitCode.ok, 'the config was printed'],
  [
    ExitCode.usage,
    'usage or configuration error (unknown target, --bind not an address, no package with a port, one backend name for several packages)',
  ],
];

/** `opsctl lb haproxy --target <name>`: a load balancer config for a target (README, "Load balancer: HAProxy"). */
export function register(program: Program): void {
  const examples = [
    // a redirect into the live config would empty it when opsctl fails: the shell truncates first
    'opsctl lb haproxy --target production > /etc/haproxy/haproxy.cfg.new && haproxy -c -f /etc/haproxy/haproxy.cfg.new && mv /etc/haproxy/haproxy.cfg.new /etc/haproxy/haproxy.cfg',
    'opsctl lb haproxy --target staging --bind 10.0.0.5',
    'opsctl lb haproxy --target production --json | jq -r .config',
  ];
  const lb = program
    .command('lb')
    .description('load balancer configs for the hosts of a target')
    .addHelpText('after', helpText(examples, EXIT_CODES));
  const haproxy = lb
    .command('haproxy')
    .description(
      'print a working HAProxy config for a target: admin socket, a frontend and a health-checked backend per package with a port',
    )
    .requiredOption('--target <name>', 'the target (targets.<name> in the config)')
    .addOption(
      new Option(
        '--bind <address>',
        'address the frontends listen on: an IPv4 or IPv6 address, or * = every address (the default)',
      ),
    )
    .addHelpText('after', helpText(examples, EXIT_CODES));
  lazyAction(haproxy, async () => (await import('./haproxy.js')).haproxy);
}
