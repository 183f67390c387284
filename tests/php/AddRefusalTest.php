<?php

declare(strict_types=1);

use Closte\Tests\Support\ClosteTestCase;

/**
 * An add that Closte refuses with "already ..." is a success only when the text says the alias
 * is on this app already: a domain another app holds is a failure, no certificate is requested,
 * and it is not retried (retrying cannot take the domain from the other app).
 */
final class AddRefusalTest extends ClosteTestCase
{
    public function testADomainAnotherAppHoldsIsAFailureWithoutCertificateOrRetry(): void
    {
        foreach ([
            [200, 'Domain is already in use by another application'],
            [200, 'Domain already used on another app'],
            [409, 'Domain is already in use by another application'],
        ] as [$status, $text]) {
            $this->sim->reset();
            $this->sim->fault(['kind' => 'status', 'status' => $status, 'error' => $text, 'path' => '/adddomainalias', 'count' => 1]);
            $result = closte_add_domain('held-elsewhere.example.com', 3);
            $case = "$status $text: " . json_encode($result);
            $this->assertResultShape($result, 'add_domain', ['site_id', 'ssl']);
            $this->assertFalse($result['ok'], $case);
            $this->assertSame('invalid_domain', $result['error_kind'], $case);
            $this->assertFalse($result['retryable'], $case);
            $this->assertSame($text, $result['error'], $case);
            $this->assertSame($status, $result['status'], $case);
            $this->assertNull($result['ssl'], $case);
            $this->assertSame(1, $result['attempts'], $case);
            $this->assertSame(['/adddomainalias'], array_column($this->sim->requests(), 'path'), "$case: no certificate request, no retry");
            $this->assertSame([], $this->sim->domains());
        }
    }

    public function testASyncDoesNotCountADomainAnotherAppHoldsAsAdded(): void
    {
        $this->sim->fault(['kind' => 'status', 'status' => 200, 'error' => 'Domain is already in use by another application', 'path' => '/adddomainalias', 'count' => 1]);
        $run = closte_sync(['held-elsewhere.example.com']);
        $this->assertFalse($run['ok']);
        $this->assertSame([], $run['added']);
        $this->assertSame(['held-elsewhere.example.com'], $run['failed']);
        $this->assertSame('invalid_domain', $run['results']['held-elsewhere.example.com']['error_kind']);
        $this->assertSame(['/getdomains', '/adddomainalias'], array_column($this->sim->requests(), 'path'));
    }

    /**
     * "Already" without saying the alias is here, and without naming another app, is unclear:
     * the listing decides, as for any unclear refusal.
     */
    public function testAnUnclearAlreadyIsSettledByTheListing(): void
    {
        $text = 'Domain is already in use';
        $this->sim->fault(['kind' => 'status', 'status' => 200, 'error' => $text, 'path' => '/adddomainalias', 'count' => 1]);
        $absent = closte_add_domain('unclear.example.com');
        $this->assertFalse($absent['ok'], json_encode($absent));
        $this->assertSame('server', $absent['error_kind']);
        $this->assertSame($text, $absent['error']);
        $this->assertNull($absent['ssl']);
        $this->assertSame(['/adddomainalias', '/getdomains'], array_column($this->sim->requests(), 'path'), 'confirmed with the listing, no certificate request');

        $this->sim->reset();
        $this->sim->fault(['kind' => 'status', 'status' => 200, 'error' => $text, 'path' => '/adddomainalias', 'count' => 1, 'apply' => true]);
        $present = closte_add_domain('unclear.example.com');
        $this->assertTrue($present['ok'], json_encode($present));
        $this->assertSame('already_exists', $present['state']);
        $this->assertTrue($present['ssl']['ok'], 'listed on this app: the certificate is requested');
    }
}
