/** IPv4 addresses and subnets as numbers: parsing, formatting and the arithmetic address management needs. */
import { InvalidInputError } from "../errors.ts";

/** An IPv4 subnet: its first address and prefix length, e.g. 10.88.0.0/16. */
export interface Subnet {
  address: number;
  prefix: number;
}

/** The address as a number (host order), or null when `text` is not a dotted quad. */
export function parseAddress(text: string): number | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return null;
    value = value * 256 + Number(part);
  }
  return value;
}

export function formatAddress(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join(".");
}

/** The mask of a prefix length, as a number. */
export function prefixMask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** `A.B.C.D/N`, whose address must be the subnet's first (10.88.0.0/16, not 10.88.0.1/16). */
export function parseSubnet(text: string): Subnet {
  const match = /^([\d.]+)\/(\d{1,2})$/.exec(text);
  const address = match ? parseAddress(match[1]) : null;
  const prefix = match ? Number(match[2]) : NaN;
  if (address === null || !(prefix >= 8 && prefix <= 30)) {
    throw new InvalidInputError(
      `invalid subnet "${text}": an IPv4 CIDR with a prefix of 8 to 30, such as 10.89.0.0/24`,
    );
  }
  if (((address & prefixMask(prefix)) >>> 0) !== address) {
    const first = formatAddress((address & prefixMask(prefix)) >>> 0);
    throw new InvalidInputError(
      `invalid subnet "${text}": host bits are set; did you mean ${first}/${prefix}?`,
    );
  }
  return { address, prefix };
}

export function formatSubnet(subnet: Subnet): string {
  return `${formatAddress(subnet.address)}/${subnet.prefix}`;
}

export function overlaps(a: Subnet, b: Subnet): boolean {
  const prefix = Math.min(a.prefix, b.prefix);
  return ((a.address & prefixMask(prefix)) >>> 0) === ((b.address & prefixMask(prefix)) >>> 0);
}

/** The broadcast address, the subnet's last. */
export function broadcast(subnet: Subnet): number {
  return (subnet.address | ~prefixMask(subnet.prefix)) >>> 0;
}
